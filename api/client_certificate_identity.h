// Identifies an HTTPS caller by the client certificate it presented (mTLS).
//
// The certificate must be one that a CA of this server issued, byte for
// byte, for client authentication (extendedKeyUsage clientAuth), within its
// validity and not revoked. The identity it gives (actor
// "cert:<ca>:<serial>", service role, that CA only) may read and renew
// that one certificate and nothing else; a renewal keeps its subject,
// profile and owner and may only drop names, never add them.
// Thread-safety: safe for concurrent use.
#pragma once

#include <openssl/types.h>

#include <optional>

#include "api/token_authenticator.h"
#include "core/ca_manager.h"

namespace cairn::api {

// nullopt: no client certificate. Throws Unauthorized
// "invalid_client_certificate" for a certificate that does not qualify.
std::optional<Identity> identify_client_certificate(CaManager& manager, const SSL* ssl);

// The check a certificate-bound identity's renewal of `old` must pass.
IssueCheck certificate_renewal_check(const CertificateView& old);

}  // namespace cairn::api
