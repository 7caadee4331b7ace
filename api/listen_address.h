// listen_address — the IP address a listener binds for a configured host:
// an IP literal as it is, a name (such as "localhost") resolved for
// listening (its first address, IPv4 before IPv6). Throws
// std::runtime_error naming the host if it does not resolve.
// Thread-safety: a pure function of the resolver. Ownership: none.
#pragma once

#include <string>

namespace cairn::api {

std::string listen_address(const std::string& host);

}  // namespace cairn::api
