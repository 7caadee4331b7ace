// Fuzz target: CSR parsing (PEM and DER), signature check, name checks and
// the profile policy, then issuance on an in-memory CA. Any cairn::Error is
// a correct refusal; crashes, leaks and sanitizer reports are bugs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/certificate_request.h"
#include "fuzz/fuzz_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& h = cairn::fuzz::Harness::get();
  if (size == 0) return 0;
  static const char* profiles[] = {"server", "client", "peer", "email"};
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    cairn::IssueRequest r;
    r.csr = input;
    r.profile = profiles[data[0] % 4];
    r.validity_days = data[0] >> 2;
    h.manager.issue("fuzz", "issuing", r);
  } catch (const cairn::Error&) {
  }
  return 0;
}
