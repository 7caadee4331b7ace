// Fuzzes parse_http1_request (both listeners' request parser) with
// arbitrary bytes: it must return Complete (within the buffer), Incomplete
// or Failed with an HTTP status, never read out of bounds, and a request
// it completes must parse the same from a copy of exactly its bytes, with
// its header fields and query inside the request's bytes; the query's
// fields must decode without a crash (parse_query).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/http1_request.h"
#include "api/http_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cairn::api::Http1Parse;
  std::string buffer(reinterpret_cast<const char*>(data), size);
  cairn::api::Http1Limits limits{1024, 512, size % 2 == 0};
  Http1Parse p = cairn::api::parse_http1_request(buffer, limits);
  switch (p.status) {
    case Http1Parse::Status::Complete: {
      if (p.request.consumed > buffer.size() || p.request.body.size() > limits.max_body_bytes) std::abort();
      std::string exact = buffer.substr(0, p.request.consumed);
      Http1Parse again = cairn::api::parse_http1_request(exact, limits);
      if (again.status != Http1Parse::Status::Complete || again.request.path != p.request.path ||
          again.request.body != p.request.body || again.request.query != p.request.query ||
          again.request.headers.size() != p.request.headers.size())
        std::abort();
      auto inside = [&](std::string_view part) {
        return part.empty() || (part.data() >= buffer.data() && part.data() + part.size() <= buffer.data() + p.request.consumed);
      };
      if (!inside(p.request.query)) std::abort();
      for (const auto& [name, value] : p.request.headers)
        if (name.empty() || !inside(name) || !inside(value)) std::abort();
      if (auto fields = cairn::api::parse_query(p.request.query))
        for (const auto& [name, value] : *fields)
          if (name.size() > p.request.query.size() || value.size() > p.request.query.size()) std::abort();
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
