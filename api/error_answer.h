// error_answer — how every HTTP answer to a failed request is made, on both
// listeners: the status an Error's kind maps to and {"error":{"code",
// "message"}}. 5xx answers carry no detail (the error is logged with the
// method and path instead); anything that is not an Error is a 500
// internal_error. Counts cairn_http_errors_total by class when given Metrics.
// Thread-safety: as thread-safe as the Metrics given (Metrics is).
#pragma once

#include <exception>
#include <nlohmann/json.hpp>
#include <string_view>

namespace cairn {
class Metrics;
}

namespace cairn::api {

struct ErrorAnswer {
  int status = 500;
  nlohmann::json body;
};

ErrorAnswer error_answer(const std::exception& e, std::string_view method, std::string_view path,
                         Metrics* metrics);

}  // namespace cairn::api
