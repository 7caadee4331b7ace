#include "api/json_text.h"

#include <array>

namespace cairn::api {
namespace {

constexpr int kIndentStep = 2;

// The ASCII bytes JSON strings must escape: controls, '"' and '\\'.
constexpr auto kEscaped = [] {
  std::array<bool, 256> escaped{};
  for (int c = 0; c < 0x20; ++c) escaped[static_cast<size_t>(c)] = true;
  escaped['"'] = escaped['\\'] = true;
  return escaped;
}();

// A quoted string as nlohmann writes it with ensure_ascii off.
void append_string(std::string& out, const std::string& s) {
  const size_t start = out.size();
  out.push_back('"');
  size_t run = 0;  // start of the bytes not yet written
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {  // not ASCII: nlohmann's serializer checks and writes it
      out.resize(start);
      out += nlohmann::json(s).dump();
      return;
    }
    if (!kEscaped[c]) continue;
    out.append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0x0f]);
      }
    }
  }
  out.append(s, run, s.size() - run);
  out.push_back('"');
}

void append_value(std::string& out, const nlohmann::json& v, int indent) {
  switch (v.type()) {
    case nlohmann::json::value_t::object: {
      if (v.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ",\n";
        first = false;
        out.append(static_cast<size_t>(indent + kIndentStep), ' ');
        append_string(out, it.key());
        out += ": ";
        append_value(out, it.value(), indent + kIndentStep);
      }
      out.push_back('\n');
      out.append(static_cast<size_t>(indent), ' ');
      out.push_back('}');
      return;
    }
    case nlohmann::json::value_t::array: {
      if (v.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      bool first = true;
      for (const auto& element : v) {
        if (!first) out += ",\n";
        first = false;
        out.append(static_cast<size_t>(indent + kIndentStep), ' ');
        append_value(out, element, indent + kIndentStep);
      }
      out.push_back('\n');
      out.append(static_cast<size_t>(indent), ' ');
      out.push_back(']');
      return;
    }
    case nlohmann::json::value_t::string:
      append_string(out, v.get_ref<const std::string&>());
      return;
    default:  // numbers, booleans, null: nlohmann's own text (answers hold no binary values)
      out += v.dump(kIndentStep);
  }
}

}  // namespace

std::string pretty_json(const nlohmann::json& value) {
  std::string out;
  out.reserve(4096);  // most answers fit: no regrowth while writing
  append_value(out, value, 0);
  return out;
}

}  // namespace cairn::api
