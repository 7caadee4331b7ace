// ParentClient — asks a parent CA on another cairn server to certify a
// child: POST <url>/api/v1/cas/<parent>/children/<child>/certify with the
// child's CSR and the token the parent gave for it. Connection failures,
// timeouts and 5xx answers are Error{Unavailable, "parent_unavailable"};
// refusals (4xx) are Error{Unavailable, "parent_refused"} with the parent's
// error code in the message, so both are retried and visible in status.
// The token never appears in errors or logs.
// Thread-safety: stateless; safe for concurrent use.
#pragma once

#include <string>

#include "core/ca_manager.h"

namespace cairn {

struct ParentRequest {
  std::string url;          // the parent server's base URL
  std::string parent;       // the parent CA's handle there
  std::string child;        // this CA's handle
  std::string token;
  std::string csr_der;
  int timeout_seconds = 10;
};

ChildCertificate request_child_certificate(const ParentRequest& request);
// After a key rollover: asks the parent to revoke (superseded) the child's
// certificate `serial` for its retired key. csr_der is unused here.
void revoke_child_certificate(const ParentRequest& request, const std::string& serial);

}  // namespace cairn
