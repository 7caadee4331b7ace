// pretty_json — the text of a JSON answer: exactly what nlohmann's
// dump(2) writes, written faster. Its serializer escaped strings one byte
// at a time through a UTF-8 decoder, ~3% of the server's CPU when issuing
// (an answer carries ~3 KB of PEM). ASCII strings are escaped here in runs;
// a string with any other byte goes to nlohmann's own serializer, so its
// UTF-8 checks and errors are unchanged, as are numbers' texts.
// Thread-safety: a pure function.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace cairn::api {

std::string pretty_json(const nlohmann::json& value);

}  // namespace cairn::api
