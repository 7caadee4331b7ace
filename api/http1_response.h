// HTTP/1.1 answer heads for cairn's listeners (PublicListener, HttpServer):
// the status line, Date, Content-Type, Content-Length, the given fields and
// the Connection field a keep-alive or closing answer needs.
// Thread-safety: pure functions (the Date value is cached per thread).
// Ownership: none kept.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace cairn::api {

struct HeaderField {
  std::string_view name;
  std::string_view value;  // empty: the field is left out
};

// The reason phrase of a status code ("Not Found").
const char* reason_phrase(int status);

// Appends the head of an answer, up to and including the blank line.
// keep_alive false adds "Connection: close"; an HTTP/1.0 request answered
// with keep-alive gets "Connection: keep-alive".
void append_http1_head(std::string& out, int status, std::string_view content_type, size_t content_length,
                       std::span<const HeaderField> fields, bool keep_alive, bool http10);

}  // namespace cairn::api
