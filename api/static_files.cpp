#include "api/static_files.h"

#include <filesystem>
#include <fstream>

#include "api/router.h"

namespace cairn::api {
namespace {

namespace fs = std::filesystem;

bool safe_relative_path(std::string_view path) {
  if (path.empty() || path.find('\\') != std::string_view::npos || path.find('\0') != std::string_view::npos)
    return false;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return true;
}

const char* content_type_of(const fs::path& file) {
  std::string ext = file.extension().string();
  if (ext == ".crl") return "application/pkix-crl";
  if (ext == ".cer" || ext == ".crt" || ext == ".der") return "application/pkix-cert";
  if (ext == ".pem") return "application/x-pem-file";
  if (ext == ".json") return "application/json";
  if (ext == ".txt") return "text/plain";
  return "application/octet-stream";
}

}  // namespace

void serve_static_file(const std::string& root, std::string_view relative, const HttpRequest& req,
                       HttpResponse& res) {
  if (req.method != "GET" && req.method != "HEAD") {
    res.set_header("Allow", "GET, HEAD");
    return send_error(res, 405, "method_not_allowed", "files are only read");
  }
  if (!safe_relative_path(relative)) return send_error(res, 400, "invalid_path", "the file path is not allowed");
  std::error_code ec;
  fs::path base = fs::canonical(root, ec);
  fs::path file = ec ? fs::path() : fs::weakly_canonical(base / fs::path(relative), ec);
  std::string base_text = base.string();
  if (!base_text.ends_with('/')) base_text += '/';
  if (ec || !file.string().starts_with(base_text) || !fs::is_regular_file(file, ec))
    return send_error(res, 404, "not_found", "no such file");
  std::ifstream in(file, std::ios::binary);
  uintmax_t size = fs::file_size(file, ec);
  if (!in || ec) return send_error(res, 404, "not_found", "the file cannot be read");
  std::string content(static_cast<size_t>(size), '\0');
  if (!in.read(content.data(), static_cast<std::streamsize>(size)) || in.gcount() != static_cast<std::streamsize>(size))
    return send_error(res, 404, "not_found", "the file cannot be read");
  res.status = 200;
  res.set_content(std::move(content), content_type_of(file));
}

}  // namespace cairn::api
