// Helpers the CLI commands share: reading the server's JSON answers,
// files given on the command line, and URL path segments.
// Thread-safety: pure functions (file helpers touch only the given path).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace cairn::cli {

// The body as JSON; CliError "invalid_response" if it is not.
nlohmann::json parse(const std::string& body);
// At most 1 MiB; CliError "file_unreadable" / "file_too_large" (exit 2).
std::string read_file(const std::string& path);
// secret: mode 0600 and never overwrites an existing file.
void write_file(const std::string& path, const std::string& content, bool secret);
// Percent-encodes one path segment; the server validates names itself.
std::string seg(const std::string& s);
// "a, b, c" from a JSON array of strings ("" for anything else).
std::string join(const nlohmann::json& list);
// "DNS:a, IP:10.0.0.1, ..." from {"dns":[...],"ip":[...],...}.
std::string sans_text(const nlohmann::json& sans);
// A field as text: strings as they are, other values as JSON, "" if absent.
std::string str(const nlohmann::json& j, const char* key);

}  // namespace cairn::cli
