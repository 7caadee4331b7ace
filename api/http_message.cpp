#include "api/http_message.h"

#include "api/http1_request.h"

namespace cairn::api {
namespace {

const std::string* find_field(const HttpFields& fields, std::string_view name, bool any_case) {
  for (const auto& [n, v] : fields)
    if (any_case ? equals_ignoring_case(n, name) : n == name) return &v;
  return nullptr;
}

}  // namespace

std::string HttpRequest::get_header_value(std::string_view name) const {
  const std::string* v = find_field(headers, name, true);
  return v ? *v : std::string();
}

bool HttpRequest::has_param(std::string_view name) const { return find_field(params, name, false) != nullptr; }

std::string HttpRequest::get_param_value(std::string_view name) const {
  const std::string* v = find_field(params, name, false);
  return v ? *v : std::string();
}

void HttpResponse::set_content(std::string content, std::string type) {
  body = std::move(content);
  shared_body.reset();
  content_type = std::move(type);
}

void HttpResponse::set_header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
}

std::optional<HttpFields> parse_query(std::string_view query) {
  HttpFields fields;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view field = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (field.empty()) continue;
    size_t eq = field.find('=');
    auto name = percent_decode(field.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : field.substr(eq + 1), true);
    if (!name || !value) return std::nullopt;
    fields.emplace_back(std::move(*name), std::move(*value));
  }
  return fields;
}

}  // namespace cairn::api
