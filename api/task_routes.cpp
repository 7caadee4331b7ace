// Background work: /api/v1/tasks, /api/v1/cas/{ca}/status, and /metrics.
#include "api/access_policy.h"
#include "api/router.h"
#include "core/ca_manager.h"
#include "core/x509_time.h"
#include "scheduler/background_tasks.h"
#include "scheduler/metrics.h"

namespace cairn::api {
namespace {

std::string time_or_empty(int64_t ms) { return ms ? iso8601(ms) : ""; }

nlohmann::json to_json(const Task& t) {
  return {{"id", t.id()},       {"kind", t.kind},         {"ca", t.ca},
          {"target", t.target}, {"due", iso8601(t.due_ms)}, {"attempts", t.attempts},
          {"last_error", t.last_error}};
}

nlohmann::json to_json(const TargetStatus& s) {
  return {{"target", s.target},
          {"last_attempt", time_or_empty(s.last_attempt_ms)},
          {"last_success", time_or_empty(s.last_success_ms)},
          {"last_error", s.last_error},
          {"failures", s.failures},
          {"next_attempt", time_or_empty(s.next_attempt_ms)}};
}

}  // namespace

void register_task_routes(Router& r) {
  BackgroundTasks& tasks = *r.services().tasks;
  CaManager& m = *r.services().manager;

  r.get("/api/v1/tasks", Access::History, [&tasks](const auto& req, auto& res, const Identity& who) {
    std::string ca = req.get_param_value("ca");
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : tasks.queue().list())
      if (may_use_ca(who, t.ca) && (ca.empty() || t.ca == ca)) list.push_back(to_json(t));
    send_json(res, 200, {{"tasks", list}});
  });

  r.get(R"(/api/v1/cas/([^/]+)/status)", Access::History, [&tasks, &m](const auto& req, auto& res, const auto&) {
    std::string ca = path_name(req, 1);
    CaView view = m.get_ca(ca);  // 404 for an unknown CA
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& s : tasks.status().of_ca(ca)) targets.push_back(to_json(s));
    nlohmann::json pending = nlohmann::json::array();
    for (const auto& t : tasks.queue().list())
      if (t.ca == ca) pending.push_back(to_json(t));
    nlohmann::json repositories = nlohmann::json::array();
    for (const auto& repo : tasks.repositories())
      if (repo->serves(ca)) repositories.push_back(repo->config().name);
    send_json(res, 200, {{"ca", ca},
                         {"status", view.status},
                         {"not_after", time_or_empty(view.not_after_ms)},
                         {"repositories", repositories},
                         {"targets", targets},
                         {"tasks", pending}});
  });

  r.get("/metrics", Access::Public, [&r](const auto&, auto& res, const auto&) {
    std::string text = r.services().metrics->render();
    if (CaManager* manager = r.services().manager) {
      // How well concurrent commands share syncs: writes / syncs.
      GroupCommit::Stats storage = manager->store().commit_stats();
      text += Metrics::render_counter("cairn_storage_writes_total",
                                      "Batches written to the CA event log, one per stored command.", storage.writes);
      text += Metrics::render_counter("cairn_storage_syncs_total",
                                      "Syncs that made CA event log writes durable (group commits).", storage.syncs);
    }
    res.set_content(text, "text/plain; version=0.0.4");
  });
}

}  // namespace cairn::api
