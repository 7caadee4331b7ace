// Fuzzes parse_http1_request (the public listener's request parser) with
// arbitrary bytes: it must return Complete (within the buffer), Incomplete
// or Failed with an HTTP status, never read out of bounds, and a request
// it completes must parse the same from a copy of exactly its bytes.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/http1_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cairn::api::Http1Parse;
  std::string buffer(reinterpret_cast<const char*>(data), size);
  cairn::api::Http1Limits limits{1024, 512};
  Http1Parse p = cairn::api::parse_http1_request(buffer, limits);
  switch (p.status) {
    case Http1Parse::Status::Complete: {
      if (p.request.consumed > buffer.size() || p.request.body.size() > limits.max_body_bytes) std::abort();
      std::string exact = buffer.substr(0, p.request.consumed);
      Http1Parse again = cairn::api::parse_http1_request(exact, limits);
      if (again.status != Http1Parse::Status::Complete || again.request.path != p.request.path ||
          again.request.body != p.request.body)
        std::abort();
      break;
    }
    case Http1Parse::Status::Failed:
      if (p.error_status < 400 || p.error_status > 505 || p.error_code.empty()) std::abort();
      break;
    case Http1Parse::Status::Incomplete:
      break;
  }
  return 0;
}
