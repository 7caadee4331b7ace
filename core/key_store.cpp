#include "core/key_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "eventstore/error.h"

namespace cairn {
namespace {

[[noreturn]] void io_fail(const std::string& what) {
  throw Error(ErrorKind::Unavailable, "key_store_error", what + ": " + std::strerror(errno));
}

void check_key_id(const std::string& key_id) {
  bool ok = key_id.size() == 64;
  for (char c : key_id) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!ok) throw Error(ErrorKind::Internal, "invalid_key_id", "malformed key id");
}

void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) io_fail("cannot open " + path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) io_fail("fsync failed");
}

}  // namespace

FileKeyStore::FileKeyStore(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw Error(ErrorKind::Unavailable, "key_store_error", "cannot create " + dir_ + ": " + ec.message());
  ::chmod(dir_.c_str(), 0700);
}

std::string FileKeyStore::path_for(const std::string& key_id) const {
  check_key_id(key_id);
  return dir_ + "/" + key_id + ".key";
}

void FileKeyStore::put(const std::string& key_id, const std::string& private_der) {
  std::string path = path_for(key_id);
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) io_fail("cannot create key file");
  size_t off = 0;
  while (off < private_der.size()) {
    ssize_t n = ::write(fd, private_der.data() + off, private_der.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      io_fail("cannot write key file");
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    io_fail("cannot sync key file");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) io_fail("cannot rename key file");
  fsync_path(dir_, O_RDONLY | O_DIRECTORY);
}

std::optional<std::string> FileKeyStore::get(const std::string& key_id) const {
  std::string path = path_for(key_id);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    io_fail("cannot open key file");
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      io_fail("cannot read key file");
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

void MemoryKeyStore::put(const std::string& key_id, const std::string& private_der) {
  std::lock_guard lock(mutex_);
  keys_[key_id] = private_der;
}

std::optional<std::string> MemoryKeyStore::get(const std::string& key_id) const {
  std::lock_guard lock(mutex_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

}  // namespace cairn
