#include "core/revocation_reason.h"

#include "eventstore/error.h"

namespace cairn {
namespace {
struct Reason {
  int code;
  const char* name;
};
constexpr Reason kReasons[] = {
    {0, "unspecified"},          {1, "keyCompromise"},      {2, "cACompromise"},
    {3, "affiliationChanged"},   {4, "superseded"},         {5, "cessationOfOperation"},
    {9, "privilegeWithdrawn"},   {10, "aACompromise"},
};
}  // namespace

int parse_revocation_reason(std::string_view name) {
  for (const auto& r : kReasons)
    if (name == r.name) return r.code;
  throw Error(ErrorKind::InvalidInput, "invalid_reason",
              "unknown revocation reason; use unspecified, keyCompromise, cACompromise, "
              "affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn or "
              "aACompromise");
}

std::string revocation_reason_name(int code) {
  for (const auto& r : kReasons)
    if (code == r.code) return r.name;
  return "unknown";
}

bool is_valid_revocation_reason(int code) {
  for (const auto& r : kReasons)
    if (code == r.code) return true;
  return false;
}

}  // namespace cairn
