// HttpRequest / HttpResponse — one request to the JSON API listener and the
// answer its handler builds (HttpServer parses and writes them; Router and
// the route handlers read and fill them).
//
// A request's path is percent-decoded and has no query; `params` are the
// query's fields, decoded ('+' is a space). Header names compare without
// case. `matches` holds the whole path and the route pattern's captures.
// A response's body is `body`, or `shared_body` when set (a large CRL kept
// elsewhere, not copied).
// Thread-safety: plain values, used by one thread at a time.
// Ownership: `ssl` is the connection's, valid while the handler runs.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::api {

using HttpFields = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;
  std::string path;
  std::string body;
  std::string remote_addr;
  SSL* ssl = nullptr;  // HTTPS: the connection, for the client certificate
  HttpFields headers;
  HttpFields params;
  std::vector<std::string> matches;

  // The first header field of that name; empty if there is none.
  std::string get_header_value(std::string_view name) const;
  bool has_param(std::string_view name) const;
  // The first query field of that name; empty if there is none.
  std::string get_param_value(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::shared_ptr<const std::string> shared_body;
  HttpFields headers;  // besides Content-Type, Content-Length, Date, Connection

  void set_content(std::string content, std::string type);
  void set_header(std::string name, std::string value);
  std::string_view content() const { return shared_body ? std::string_view(*shared_body) : std::string_view(body); }
};

// The fields of a query string ("a=1&b=x%20y", '+' a space); nullopt if
// a field does not decode (a malformed escape).
std::optional<HttpFields> parse_query(std::string_view query);

}  // namespace cairn::api
