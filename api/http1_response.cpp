#include "api/http1_response.h"

#include <ctime>

namespace cairn::api {
namespace {

// The Date header's value (RFC 9110 5.6.7), formatted once a second per thread.
const std::string& http_date() {
  thread_local std::time_t formatted_at = 0;
  thread_local std::string text;
  std::time_t now = std::time(nullptr);
  if (now != formatted_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    text.assign(buf, n);
    formatted_at = now;
  }
  return text;
}

}  // namespace

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

void append_http1_head(std::string& out, int status, std::string_view content_type, size_t content_length,
                       std::span<const HeaderField> fields, bool keep_alive, bool http10) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\nDate: ";
  out += http_date();
  if (!content_type.empty()) {
    out += "\r\nContent-Type: ";
    out += content_type;
  }
  out += "\r\nContent-Length: ";
  out += std::to_string(content_length);
  for (const auto& f : fields) {
    if (f.value.empty()) continue;
    out += "\r\n";
    out += f.name;
    out += ": ";
    out += f.value;
  }
  if (!keep_alive)
    out += "\r\nConnection: close";
  else if (http10)
    out += "\r\nConnection: keep-alive";
  out += "\r\n\r\n";
}

}  // namespace cairn::api
