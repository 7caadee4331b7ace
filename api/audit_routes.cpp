// /api/v1/audit/checkpoints: sign a checkpoint of every CA's history head
// now, or fetch the latest one. Auditors may do both.
#include "api/router.h"
#include "core/ca_manager.h"
#include "objects/audit_checkpoint.h"

namespace cairn::api {

void register_audit_routes(Router& r) {
  CaManager& m = *r.services().manager;
  CheckpointService& checkpoints = *r.services().checkpoints;

  r.post("/api/v1/audit/checkpoints", Access::History, [&](const auto&, auto& res, const auto&) {
    auto cp = checkpoints.create({&m.store().log()});
    res.status = 201;
    res.set_content(cp.to_json(), "application/json");
  });

  r.get("/api/v1/audit/checkpoints/latest", Access::Read, [&](const auto&, auto& res, const auto&) {
    auto cp = checkpoints.latest();
    if (!cp) throw Error(ErrorKind::NotFound, "no_checkpoint", "no checkpoint has been made yet");
    res.set_content(cp->to_json(), "application/json");
  });
}

}  // namespace cairn::api
