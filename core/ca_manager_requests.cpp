// CaManager: certificate requests that wait for an operator's approval.
#include <algorithm>

#include "core/ca_manager.h"

namespace cairn {
namespace {

RequestView view_of_request(const std::string& ca, const PendingRequest& p) {
  RequestView v;
  v.ca = ca;
  v.id = p.request.id;
  v.status = p.status;
  v.requested_by = p.request.requested_by;
  v.requested_at_ms = p.request.requested_at_ms;
  v.subject = p.request.subject;
  v.sans = p.request.sans;
  v.profile = p.request.profile;
  v.validity_days = p.request.validity_days;
  v.replaces = p.request.replaces;
  v.decided_by = p.decided_by;
  v.decided_at_ms = p.decided_at_ms;
  v.serial = p.serial;
  v.reason = p.reason;
  return v;
}

void check_request_id(const std::string& id) {
  bool ok = id.size() == 16;
  for (char c : id) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!ok) throw Error(ErrorKind::InvalidInput, "invalid_request_id", "a request id is 16 hex digits");
}

}  // namespace

std::vector<RequestView> CaManager::list_requests(const std::string& ca, const std::string& status) {
  validate_aggregate_id(ca);
  if (!status.empty() && status != "pending" && status != "approved" && status != "rejected")
    throw Error(ErrorKind::InvalidInput, "invalid_status", "status must be pending, approved or rejected");
  auto out = store_.read(ca, [&](const CertAuth& state, uint64_t) {
    std::vector<RequestView> views;
    for (const auto& [id, p] : state.requests())
      if (status.empty() || p.status == status) views.push_back(view_of_request(ca, p));
    return views;
  });
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.requested_at_ms != b.requested_at_ms ? a.requested_at_ms < b.requested_at_ms : a.id < b.id;
  });
  return out;
}

RequestView CaManager::get_request(const std::string& ca, const std::string& id) {
  validate_aggregate_id(ca);
  check_request_id(id);
  return store_.read(ca, [&](const CertAuth& state, uint64_t) {
    auto it = state.requests().find(id);
    if (it == state.requests().end())
      throw Error(ErrorKind::NotFound, "request_not_found", "CA '" + ca + "' has no request " + id);
    return view_of_request(ca, it->second);
  });
}

IssueResult CaManager::approve(const std::string& actor, const std::string& ca, const std::string& id) {
  validate_aggregate_id(ca);
  check_request_id(id);
  if (!store_.exists(ca)) throw Error(ErrorKind::NotFound, "ca_not_found", "CA '" + ca + "' does not exist");
  CaContext ctx = context();
  ChainLink issuer;
  auto outcome = store_.process(ca, ApproveRequest{id}, meta(actor), ctx,
                                [&](const CertAuth& s) { issuer = ChainLink::of(s); });
  return issued_result(ca, std::get<CertificateIssued>(outcome.events.at(1)), EvpPkeyPtr(), issuer);
}

RequestView CaManager::reject(const std::string& actor, const std::string& ca, const std::string& id,
                              const std::string& reason) {
  validate_aggregate_id(ca);
  check_request_id(id);
  if (!store_.exists(ca)) throw Error(ErrorKind::NotFound, "ca_not_found", "CA '" + ca + "' does not exist");
  CaContext ctx = context();
  store_.process(ca, RejectRequest{id, reason}, meta(actor), ctx);
  return get_request(ca, id);
}

}  // namespace cairn
