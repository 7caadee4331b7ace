#include "api/http1_request.h"

#include <algorithm>
#include <optional>

namespace cairn::api {
namespace {

using Status = Http1Parse::Status;

Http1Parse failed(int status, const char* code, const char* message) {
  Http1Parse p;
  p.status = Status::Failed;
  p.error_status = status;
  p.error_code = code;
  p.error_message = message;
  return p;
}

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a comma-separated header value lists `token`.
bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    if (equals_ignoring_case(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<size_t> parse_length(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  size_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return n;
}

}  // namespace

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return std::nullopt;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Http1Parse parse_http1_request(std::string_view buffer, const Http1Limits& limits) {
  // RFC 9112 2.2: empty lines before the request line are ignored.
  size_t start = 0;
  while (start + 1 < buffer.size() && buffer[start] == '\r' && buffer[start + 1] == '\n') start += 2;
  // The limit counts from the buffer's start, skipped lines included: they
  // stay in the buffer until the request is complete.
  size_t head_end = buffer.find("\r\n\r\n", start);
  size_t head_size = head_end == std::string_view::npos ? buffer.size() : head_end + 4;
  if (head_size > limits.max_header_bytes) {
    // The request line alone over the limit: the target is too long.
    size_t line_end = buffer.find("\r\n", start);
    if ((line_end == std::string_view::npos ? buffer.size() : line_end) - start > limits.max_header_bytes)
      return failed(414, "uri_too_long", "the request target is too long");
    return failed(431, "headers_too_large", "the request line and headers are too large");
  }
  if (head_end == std::string_view::npos) return Http1Parse{};
  std::string_view head = buffer.substr(start, head_end - start);

  Http1Parse p;
  Http1Request& r = p.request;
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return failed(400, "bad_request", "malformed request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method) || target.empty()) return failed(400, "bad_request", "malformed request line");
  if (version == "HTTP/1.0") {
    r.http10 = true;
    r.keep_alive = false;
  } else if (version != "HTTP/1.1") {
    if (version.starts_with("HTTP/") && version.size() == 8 && version[5] >= '0' && version[5] <= '9' &&
        version[6] == '.' && version[7] >= '0' && version[7] <= '9')
      return failed(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served");
    return failed(400, "bad_request", "malformed request line");
  }
  r.method = std::string(method);

  // absolute-form: the path starts after the authority.
  if (target.size() > 7 && (equals_ignoring_case(target.substr(0, 7), "http://") || equals_ignoring_case(target.substr(0, 8), "https://"))) {
    size_t authority = target.find("://") + 3;
    size_t slash = target.find('/', authority);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (target.front() != '/') return failed(400, "bad_request", "the request target must be a path");
  size_t question = target.find('?');
  auto path = percent_decode(target.substr(0, question));
  if (!path) return failed(400, "bad_request", "malformed request target");
  r.path = std::move(*path);
  if (question != std::string_view::npos) r.query = target.substr(question + 1);

  std::optional<size_t> length;
  std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!rest.empty()) {
    size_t end = rest.find("\r\n");
    std::string_view field = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
    size_t colon = field.find(':');
    // No obsolete line folding, no space before the colon (RFC 9112 5.1, 5.2).
    if (colon == std::string_view::npos || !is_token(field.substr(0, colon)))
      return failed(400, "bad_request", "malformed header field");
    std::string_view name = field.substr(0, colon);
    std::string_view value = trim(field.substr(colon + 1));
    for (char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return failed(400, "bad_request", "malformed header field");
    if (limits.keep_headers) r.headers.emplace_back(name, value);
    if (equals_ignoring_case(name, "content-length")) {
      auto n = parse_length(value);
      if (!n || (length && *length != *n)) return failed(400, "bad_request", "invalid Content-Length");
      length = n;
    } else if (equals_ignoring_case(name, "transfer-encoding")) {
      return failed(411, "length_required", "request bodies must be sent with Content-Length");
    } else if (equals_ignoring_case(name, "connection")) {
      if (lists_token(value, "close")) r.keep_alive = false;
      if (r.http10 && lists_token(value, "keep-alive")) r.keep_alive = true;
    } else if (equals_ignoring_case(name, "expect")) {
      if (equals_ignoring_case(value, "100-continue")) r.expects_continue = !r.http10;
    }
  }
  size_t body_length = length.value_or(0);
  if (body_length > limits.max_body_bytes) return failed(413, "body_too_large", "the request body is too large");

  p.head_complete = true;
  size_t body_start = head_end + 4;
  if (buffer.size() - body_start < body_length) return p;  // Incomplete, head in
  r.body = buffer.substr(body_start, body_length);
  r.consumed = body_start + body_length;
  p.status = Status::Complete;
  return p;
}

}  // namespace cairn::api
