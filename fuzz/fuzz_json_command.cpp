// Fuzz target: JSON request decoding for the API (create CA, issue/renew)
// and, when a body decodes, the command it becomes on an in-memory CA.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/json_codec.h"
#include "fuzz/fuzz_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& h = cairn::fuzz::Harness::get();
  std::string body(reinterpret_cast<const char*>(data), size);
  try {
    auto j = cairn::api::parse_json_body(body);
    if (size % 2) {
      auto create = cairn::api::create_ca_request(j);
      create.parent = "issuing";  // bounded: children of the fuzz issuing CA only
      create.handle = "f" + std::to_string(size % 7);
      if (create.algorithm.starts_with("rsa")) create.algorithm = "ec-p256";  // keep each run fast
      h.manager.create_ca("fuzz", create);
    } else {
      auto request = cairn::api::issue_request(j);
      if (request.key_type.starts_with("rsa")) request.key_type = "ec-p256";
      h.manager.issue("fuzz", "issuing", request);
    }
  } catch (const cairn::Error&) {
  }
  return 0;
}
