#include "api/error_answer.h"

#include <spdlog/spdlog.h>

#include "api/json_codec.h"
#include "eventstore/error.h"
#include "scheduler/metrics.h"

namespace cairn::api {
namespace {

// The path as one log line: control characters (a decoded %0A) shown as '?',
// at most 200 characters.
std::string loggable(std::string_view path) {
  std::string out(path.substr(0, 200));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

}  // namespace

ErrorAnswer error_answer(const std::exception& e, std::string_view method, std::string_view path,
                         Metrics* metrics) {
  const auto* error = dynamic_cast<const Error*>(&e);
  int status = error ? http_status_for(error->kind()) : 500;
  if (metrics) metrics->add("cairn_http_errors_total", status >= 500 ? R"(class="5xx")" : R"(class="4xx")");
  if (!error) {
    spdlog::error("{} {} failed: {}", method, loggable(path), e.what());
    return {500, error_json("internal_error", "internal error")};
  }
  if (status < 500) return {status, error_json(error->code(), error->what())};
  spdlog::error("{} {} failed: {}: {}", method, loggable(path), error->code(), error->what());
  return {status, error_json(error->code(), status == 503 ? "a dependency is unavailable; try again" : "internal error")};
}

}  // namespace cairn::api
