#include "api/access_policy.h"

#include <algorithm>

#include "core/distinguished_name.h"
#include "eventstore/error.h"

namespace cairn::api {
namespace {

bool scoped(const Identity& who) {
  return who.role == Role::Operator || who.role == Role::Service || who.role == Role::Child;
}

}  // namespace

bool may_use_ca(const Identity& who, const std::string& ca) {
  return !scoped(who) || std::find(who.cas.begin(), who.cas.end(), ca) != who.cas.end();
}

void require_ca(const Identity& who, const std::string& ca) {
  if (!may_use_ca(who, ca))
    throw Error(ErrorKind::Forbidden, "ca_not_allowed", "this token may not use CA '" + ca + "'");
}

bool may_see_certificate(const Identity& who, const CertificateView& cert) {
  if (!may_use_ca(who, cert.ca)) return false;
  if (who.bound_to_certificate()) return cert.ca == who.certificate_ca && cert.serial == who.certificate_serial;
  return who.role != Role::Service || cert.requested_by == who.actor;
}

void require_owner(const Identity& who, const CertificateView& cert) {
  require_ca(who, cert.ca);
  if (who.bound_to_certificate() && !may_see_certificate(who, cert))
    throw Error(ErrorKind::Forbidden, "not_owner",
                "a client certificate may only use itself, not certificate " + cert.serial);
  if (!who.bound_to_certificate() && who.role == Role::Service && cert.requested_by != who.actor)
    throw Error(ErrorKind::Forbidden, "not_owner",
                "certificate " + cert.serial + " was not requested by this token");
}

IssueCheck issue_check(const Identity& who) {
  if (who.role != Role::Service) return {};
  return [&who](const std::string& ca, const IssueCertificate& cmd) {
    require_ca(who, ca);
    if (!who.profiles.empty() &&
        std::find(who.profiles.begin(), who.profiles.end(), cmd.profile) == who.profiles.end())
      throw Error(ErrorKind::Forbidden, "profile_not_allowed",
                  "this token may not use profile '" + cmd.profile + "'");
    std::string cn = common_name(parse_subject(cmd.subject).get());
    std::string denied = first_name_not_allowed(who.names, cmd.sans, cn);
    if (!denied.empty())
      throw Error(ErrorKind::Forbidden, "name_not_allowed",
                  "this token may not request a certificate for '" + denied + "'");
  };
}

}  // namespace cairn::api
