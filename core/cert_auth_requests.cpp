// CertAuth: certificate requests that wait for approval, renewal checks and
// the per-requester certificate limit of a profile.
#include <openssl/rand.h>

#include "core/cert_auth.h"
#include "core/profile.h"
#include "eventstore/records.h"

namespace cairn {

CertificateRequested CertAuth::new_request(const IssueCertificate& c, const CommandMeta& m) const {
  CertificateRequested r;
  for (;;) {
    unsigned char bytes[8];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
      throw Error(ErrorKind::Internal, "rng_failed", "random generator failed");
    r.id = to_hex(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
    if (!requests_.count(r.id)) break;
  }
  r.requested_by = m.actor;
  r.requested_at_ms = m.time_ms;
  r.subject = c.subject;
  r.sans = c.sans;
  r.public_key_der = c.public_key_der;
  r.profile = c.profile;
  r.validity_days = c.validity_days;
  r.replaces = c.replaces;
  return r;
}

const PendingRequest& CertAuth::pending_request(const std::string& id) const {
  auto it = requests_.find(id);
  if (it == requests_.end())
    throw Error(ErrorKind::NotFound, "request_not_found", "CA '" + handle_ + "' has no request " + id);
  if (it->second.status != "pending")
    throw Error(ErrorKind::Conflict, "request_decided",
                "request " + id + " was already " + it->second.status + " by " + it->second.decided_by);
  return it->second;
}

std::vector<CaEvent> CertAuth::approve(const ApproveRequest& c, const CommandMeta& m, CaContext& ctx) const {
  const PendingRequest& pending = pending_request(c.id);
  const CertificateRequested& r = pending.request;
  if (r.requested_by == m.actor)
    throw Error(ErrorKind::Forbidden, "self_approval", "a request cannot be approved by its requester");
  IssueCertificate issue;
  issue.public_key_der = r.public_key_der;
  issue.subject = r.subject;
  issue.sans = r.sans;
  issue.profile = r.profile;
  issue.validity_days = r.validity_days;
  issue.replaces = r.replaces;
  CertificateIssued issued = issue_for(issue, r.requested_by, m, ctx, c.id);
  return {RequestApproved{c.id, m.actor, m.time_ms, issued.serial}, issued};
}

std::vector<CaEvent> CertAuth::reject(const RejectRequest& c, const CommandMeta& m) const {
  pending_request(c.id);
  if (c.reason.size() > 512)
    throw Error(ErrorKind::TooLarge, "reason_too_long", "the reason is limited to 512 characters");
  for (unsigned char ch : c.reason)
    if (ch < 0x20 && ch != '\t')
      throw Error(ErrorKind::InvalidInput, "invalid_reason", "the reason must be one line of text");
  return {RequestRejected{c.id, m.actor, m.time_ms, c.reason}};
}

std::string CertAuth::check_renewal(const std::string& replaces) const {
  if (replaces.empty()) return "";
  std::optional<IssuedCertificate> old = find(replaces);
  if (!old)
    throw Error(ErrorKind::NotFound, "certificate_not_found",
                "certificate " + replaces + " was not issued by CA '" + handle_ + "'");
  if (old->revoked)
    throw Error(ErrorKind::Conflict, "certificate_revoked",
                "certificate " + replaces + " is revoked and cannot be renewed");
  if (!old->replaced_by.empty())
    throw Error(ErrorKind::Conflict, "already_renewed",
                "certificate " + replaces + " was already renewed by " + old->replaced_by);
  if (!old->child_ca.empty())
    throw Error(ErrorKind::Conflict, "not_renewable", "CA certificates are renewed by their CA");
  return old->serial;
}

void CertAuth::check_requester_limit(const Profile& profile, const std::string& requester,
                                     const std::string& replaces, int64_t now_ms,
                                     const std::string& approving) const {
  if (profile.max_certificates_per_requester <= 0) return;
  int held = 0;
  std::optional<uint32_t> requester_id = index_.requester_id(requester);
  std::optional<uint32_t> profile_id = index_.profile_id(profile.name);
  CertificateIndex::Position renewed = replaces.empty() ? CertificateIndex::kNone : index_.find(replaces);
  if (requester_id && profile_id)
    for (CertificateIndex::Position p = 0; p < index_.size(); ++p) {
      const CertificateIndex::Entry& c = index_.at(p);
      if (c.requester == *requester_id && c.profile == *profile_id && !c.revoked && c.not_after_ms > now_ms &&
          c.replaced_by == CertificateIndex::kNone && p != renewed)
        ++held;
    }
  for (const auto& [id, r] : requests_)
    if (id != approving && r.status == "pending" && r.request.requested_by == requester && r.request.profile == profile.name)
      ++held;
  if (held >= profile.max_certificates_per_requester)
    throw Error(ErrorKind::PolicyViolation, "certificate_limit_reached",
                "profile '" + profile.name + "' allows " +
                    std::to_string(profile.max_certificates_per_requester) +
                    " valid certificates per requester; revoke or renew one instead");
}

}  // namespace cairn
