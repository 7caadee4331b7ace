// Test helpers: a temporary directory removed at scope exit; the stable
// error code a call throws.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <string>

#include "eventstore/error.h"

namespace cairn::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    if (!made) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The code of the cairn::Error `fn` throws, "" if it throws none.
inline std::string error_code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  return "";
}

}  // namespace cairn::testing
