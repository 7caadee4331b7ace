// Access policy — what an authenticated Identity may do with a CA or a
// certificate, beyond the route-level role check in Router:
//   * operators and services only see and use the CAs their token names;
//   * services issue only names that match their patterns, with their
//     profiles, and only read, renew and revoke certificates they requested;
//   * an identity bound to a client certificate sees and renews only that
//     certificate (client_certificate_identity.h).
// Refusals are Forbidden errors with the codes "ca_not_allowed",
// "name_not_allowed", "profile_not_allowed" and "not_owner".
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "api/token_authenticator.h"
#include "core/ca_manager.h"

namespace cairn::api {

bool may_use_ca(const Identity& who, const std::string& ca);
void require_ca(const Identity& who, const std::string& ca);
bool may_see_certificate(const Identity& who, const CertificateView& cert);
void require_owner(const Identity& who, const CertificateView& cert);
// The check CaManager runs on the finished issuance command.
IssueCheck issue_check(const Identity& who);

}  // namespace cairn::api
