// /api/v1/cas/{ca}/history/commands[/{seq}]: the audit trail of one CA.
#include "api/json_codec.h"
#include "api/router.h"
#include "core/ca_manager.h"
#include "core/x509_time.h"
#include "eventstore/records.h"

namespace cairn::api {
namespace {

constexpr uint64_t kMaxRows = 1000;

uint64_t number_param(const HttpRequest& req, const char* name, uint64_t fallback, uint64_t max) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  uint64_t value = 0;
  bool ok = !text.empty() && text.size() <= 12;
  for (char c : text) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!ok || value > max)
    throw Error(ErrorKind::InvalidInput, "invalid_parameter",
                std::string("'") + name + "' must be a number up to " + std::to_string(max));
  return value;
}

nlohmann::json command_json(const CommandRecord& r) {
  return {{"seq", r.seq},
          {"time", iso8601(r.time_ms)},
          {"time_ms", r.time_ms},
          {"actor", r.actor},
          {"summary", r.summary},
          {"outcome", r.ok ? "ok" : "rejected"},
          {"error_code", r.error_code},
          {"error_message", r.error_message},
          {"event_versions", r.event_versions},
          {"hash", to_hex(r.hash)}};
}

}  // namespace

void register_history_routes(Router& r) {
  CaManager& m = *r.services().manager;

  r.get(R"(/api/v1/cas/([^/]+)/history/commands)", Access::History, [&m](const auto& req, auto& res, const auto&) {
    std::string ca = path_name(req, 1);
    m.get_ca(ca);  // 404 for unknown CAs
    int64_t since = req.has_param("since") ? parse_iso8601(req.get_param_value("since")) : INT64_MIN;
    int64_t until = req.has_param("until") ? parse_iso8601(req.get_param_value("until")) : INT64_MAX;
    uint64_t offset = number_param(req, "offset", 0, UINT32_MAX);
    uint64_t rows = number_param(req, "rows", 100, kMaxRows);
    nlohmann::json list = nlohmann::json::array();
    uint64_t matched = 0;
    m.store().log().for_each_command(ca, 1, [&](const CommandRecord& c) {
      if (c.time_ms < since || c.time_ms > until) return true;
      if (matched++ >= offset && list.size() < rows) list.push_back(command_json(c));
      return true;
    });
    send_json(res, 200, {{"ca", ca}, {"total", matched}, {"offset", offset}, {"commands", list}});
  });

  r.get(R"(/api/v1/cas/([^/]+)/history/commands/([0-9]{1,12}))", Access::History,
        [&m](const auto& req, auto& res, const auto&) {
          std::string ca = path_name(req, 1);
          m.get_ca(ca);
          uint64_t seq = std::stoull(req.matches[2]);
          auto command = m.store().log().command(ca, seq);
          if (!command)
            throw Error(ErrorKind::NotFound, "command_not_found",
                        "CA '" + ca + "' has no command " + std::to_string(seq));
          auto j = command_json(*command);
          j["params"] = nlohmann::json::parse(command->params_json, nullptr, false);
          nlohmann::json events = nlohmann::json::array();
          for (uint64_t v : command->event_versions) {
            auto ev = m.store().log().event(ca, v);
            if (!ev) throw Error(ErrorKind::Internal, "corrupt_history", "a command's event is missing");
            events.push_back({{"version", ev->version},
                              {"time", iso8601(ev->time_ms)},
                              {"hash", to_hex(ev->hash)},
                              {"event", nlohmann::json::parse(CertAuth::event_json(CertAuth::decode_event(ev->payload)))}});
          }
          j["events"] = events;
          send_json(res, 200, j);
        });
}

}  // namespace cairn::api
