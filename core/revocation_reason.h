// RFC 5280 CRLReason codes and their names ("keyCompromise", ...).
// removeFromCRL (8) and certificateHold (6) are not offered: cairn
// revocations are final. parse throws InvalidInput "invalid_reason".
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace cairn {

int parse_revocation_reason(std::string_view name);
std::string revocation_reason_name(int code);
bool is_valid_revocation_reason(int code);

}  // namespace cairn
