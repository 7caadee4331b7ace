// serve_static_file — answers GET and HEAD for a file under a directory
// served read-only (a repository at /repo/): `relative` is the decoded path
// below the mount point. A path with an empty, "." or ".." segment, a
// backslash or a NUL is refused (400 "invalid_path"); one that resolves
// outside the directory (a symbolic link), or is not a regular file, is
// 404 "not_found". The content type follows the file's extension (CRLs,
// certificates, PEM, JSON). Other methods get 405.
// Thread-safety: a pure function of the file system.
// Ownership: none kept.
#pragma once

#include <string>
#include <string_view>

#include "api/http_message.h"

namespace cairn::api {

void serve_static_file(const std::string& root, std::string_view relative, const HttpRequest& req,
                       HttpResponse& res);

}  // namespace cairn::api
