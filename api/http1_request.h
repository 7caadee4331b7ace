// parse_http1_request — reads one HTTP/1.0 or 1.1 request (RFC 9112) from
// the front of a buffer, for PublicListener and HttpServer.
//
// Complete: the request and how many bytes it took (pipelined requests
// follow). Incomplete: more bytes are needed; head_complete says whether
// the request line and headers are in (then `request` holds them and
// `expects_continue` may ask for a 100 Continue). Failed: an HTTP status
// (400 malformed, 411 Transfer-Encoding, 413 body over the limit, 431 head
// over the limit, 414 if the request line alone is over it, 505 other
// versions) with a stable error code; the connection must then be closed.
// The target may be origin-form ("/path?query") or absolute-form
// ("http://host/path"); `path` is percent-decoded and has no query, which
// is kept undecoded in `query`. Header fields are kept in `headers` only if
// the limits ask for them. Only Content-Length bodies are taken.
// Thread-safety: pure functions. Ownership: `query`, `headers` and `body`
// point into the buffer.
#pragma once

#include <cstddef>
#include <string>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::api {

struct Http1Limits {
  size_t max_header_bytes = 8 << 10;
  size_t max_body_bytes = 64 << 10;
  bool keep_headers = false;
};

struct Http1Request {
  std::string method;
  std::string path;
  std::string_view query;  // after '?', undecoded; points into the buffer
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // if kept; into the buffer
  std::string_view body;
  bool keep_alive = true;  // HTTP/1.1 without "Connection: close", or 1.0 with keep-alive
  bool http10 = false;
  bool expects_continue = false;
  size_t consumed = 0;  // Complete: bytes of the buffer this request took
};

struct Http1Parse {
  enum class Status { Incomplete, Complete, Failed } status = Status::Incomplete;
  bool head_complete = false;
  Http1Request request;
  int error_status = 0;  // Failed
  std::string error_code;
  std::string error_message;
};

Http1Parse parse_http1_request(std::string_view buffer, const Http1Limits& limits);

// Whether two ASCII strings (header field names, tokens) are equal without
// regard to case.
bool equals_ignoring_case(std::string_view a, std::string_view b);

// Percent-decodes a path or a query field; nullopt for a malformed escape
// or a control character or space. In a query, '+' stands for a space.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);

}  // namespace cairn::api
