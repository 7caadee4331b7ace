#include "scheduler/repository.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "eventstore/error.h"
#include "eventstore/aggregate_log.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void unavailable(const std::string& repo, const std::string& what) {
  throw Error(ErrorKind::Unavailable, "repository_unavailable", "repository '" + repo + "': " + what);
}

void fsync_path(const fs::path& p, int flags) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

bool same_content(const fs::path& p, const std::string& bytes) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return old == bytes;
}

void write_atomically(const std::string& repo, const fs::path& target, const std::string& bytes) {
  if (same_content(target, bytes)) return;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) unavailable(repo, "cannot create " + target.parent_path().string() + ": " + ec.message());
  fs::path tmp = target;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) unavailable(repo, "cannot write " + tmp.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      unavailable(repo, "cannot write " + tmp.string() + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), target.c_str()) != 0)
    unavailable(repo, "cannot replace " + target.string() + ": " + std::strerror(errno));
  fsync_path(target.parent_path(), O_RDONLY | O_DIRECTORY);
}

}  // namespace

bool Repository::serves(const std::string& ca) const {
  const auto& cas = config().cas;
  return cas.empty() || std::find(cas.begin(), cas.end(), ca) != cas.end();
}

DirectoryRepository::DirectoryRepository(RepositoryConfig config) : config_(std::move(config)) {}

void DirectoryRepository::publish(const std::string& ca, const std::vector<PublishedObject>& objects) {
  validate_aggregate_id(ca);  // the CA handle becomes a file name: no path tricks
  const fs::path root(config_.path);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) unavailable(config_.name, config_.path + " is not a directory");
  std::set<fs::path> wanted;
  for (const auto& o : objects) {
    fs::path p = (root / o.path).lexically_normal();
    if (o.path.empty() || o.path.find("..") != std::string::npos || o.path.front() == '/')
      throw Error(ErrorKind::Internal, "invalid_object_path", "bad repository path " + o.path);
    write_atomically(config_.name, p, o.bytes);
    wanted.insert(p);
  }
  // What the CA no longer publishes leaves the repository: issued
  // certificates no longer valid, objects of retired keys, a staged
  // certificate once activated (all live in the CA's own folders).
  for (const char* kind : {"certs", "ca", "crl"}) {
    const fs::path folder = root / kind / ca;
    if (!fs::is_directory(folder, ec)) continue;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
      fs::path p = entry.path().lexically_normal();
      if (!wanted.count(p) && !fs::remove(p, ec) && ec)
        unavailable(config_.name, "cannot remove " + p.string() + ": " + ec.message());
    }
    if (ec) unavailable(config_.name, "cannot list " + folder.string() + ": " + ec.message());
  }
}

std::unique_ptr<Repository> make_repository(const RepositoryConfig& config, KeyValueStore* kv) {
  validate_aggregate_id(config.name);
  auto bad = [&](const std::string& why) {
    throw Error(ErrorKind::InvalidInput, "invalid_repository", "repository '" + config.name + "': " + why);
  };
  for (const auto& ca : config.cas) validate_aggregate_id(ca);
  if (config.type == "directory") {
    if (config.path.empty()) bad("a directory repository needs a path");
    return std::make_unique<DirectoryRepository>(config);
  }
  if (config.type == "http") {
    bool ok = (config.url.starts_with("http://") || config.url.starts_with("https://")) && !config.url.ends_with("/");
    for (char c : config.url) ok = ok && c > 0x20 && c < 0x7f;
    if (!ok) bad("url must be an http(s) URL without a trailing slash");
    if (!kv) bad("an http repository needs storage for what it published");
    return std::make_unique<HttpRepository>(config, *kv);
  }
  bad("unknown type '" + config.type + "' (known: directory, http)");
  return nullptr;
}

}  // namespace cairn
