// JSON <-> domain for the HTTP API. Request decoding is strict: wrong types
// and unknown enum values are InvalidInput errors with stable codes
// ("invalid_json", "invalid_field", "missing_field"); unknown fields are
// ignored so clients can be newer than the server.
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "core/ca_manager.h"

namespace cairn::api {

nlohmann::json parse_json_body(const std::string& body);

nlohmann::json to_json(const CaView& ca);
nlohmann::json to_json(const CertificateView& cert);
nlohmann::json to_json(const IssueResult& result);  // {"request": ...} when pending
nlohmann::json to_json(const RequestView& request);
nlohmann::json error_json(const std::string& code, const std::string& message);

CreateCaRequest create_ca_request(const nlohmann::json& j);
// parent_url + parent_token (with parent): a parent on another cairn server.
std::optional<RemoteParent> remote_parent(const nlohmann::json& j);
IssueRequest issue_request(const nlohmann::json& j);

}  // namespace cairn::api
