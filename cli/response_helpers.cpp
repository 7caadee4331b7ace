#include "cli/response_helpers.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cli/api_client.h"

namespace cairn::cli {

using nlohmann::json;

json parse(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) throw CliError("invalid_response", "the server sent a response that is not JSON");
  return j;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CliError("file_unreadable", "cannot read " + path, 2);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > (1u << 20)) throw CliError("file_too_large", path + " is larger than 1 MiB", 2);
  return s;
}

void write_file(const std::string& path, const std::string& content, bool secret) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (secret ? O_EXCL : O_TRUNC);
  int fd = ::open(path.c_str(), flags, secret ? 0600 : 0644);
  if (fd < 0)
    throw CliError("file_unwritable", "cannot write " + path + ": " + std::strerror(errno) +
                                          (secret && errno == EEXIST ? " (a key file is never overwritten)" : ""), 2);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      throw CliError("file_unwritable", "cannot write " + path, 2);
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
}

std::string seg(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string join(const json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (const auto& item : list) out += (out.empty() ? "" : ", ") + (item.is_string() ? item.get<std::string>() : item.dump());
  return out;
}

std::string sans_text(const json& sans) {
  std::string out;
  for (const char* type : {"dns", "ip", "email", "uri"}) {
    if (!sans.contains(type)) continue;
    for (const auto& v : sans[type]) {
      std::string prefix = std::string(type) == "dns" ? "DNS:" : std::string(type) == "ip" ? "IP:"
                           : std::string(type) == "email" ? "email:" : "URI:";
      out += (out.empty() ? "" : ", ") + prefix + v.get<std::string>();
    }
  }
  return out;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

}  // namespace cairn::cli
