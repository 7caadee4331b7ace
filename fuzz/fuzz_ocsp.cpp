// Fuzz target: the OCSP responder on arbitrary request bytes. It must always
// return a well-formed OCSPResponse and never crash.
#include <openssl/ocsp.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& h = cairn::fuzz::Harness::get();
  std::string der;
  try {
    der = h.ocsp.respond(size % 2 ? "issuing" : "root", std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const cairn::Error&) {
    return 0;
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  OCSP_RESPONSE* resp = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size()));
  if (!resp) std::abort();  // the responder produced something that is not an OCSPResponse
  OCSP_RESPONSE_free(resp);
  return 0;
}
