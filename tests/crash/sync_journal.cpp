// sync_journal — an LD_PRELOAD library for the power-cut crash test
// (tests/crash/run.sh, applied by `crash_client power-cut`).
//
// A kill -9 loses nothing the kernel has accepted: the page cache survives
// it. A power cut also loses every write not yet on stable storage. This
// library records, for files under CAIRN_SYNC_JOURNAL_ROOT, what the
// process made durable, so that after a kill -9 the harness can throw away
// the rest, as a power cut would:
//   C <dev> <ino> <path>   a file was created (open with O_CREAT, no file before)
//   S <dev> <ino> <size>   fsync/fdatasync of a file succeeded; <size> is its
//                          size when the call began (what it covers at least)
//   D <path>               fsync of a directory succeeded (the names in it,
//                          creations included, are durable)
// one line per event, appended with one write() to CAIRN_SYNC_JOURNAL (a
// kill -9 does not lose it: it is in the page cache like everything else).
// Renames and unlinks are not recorded: the test treats them as durable at
// once (a power cut could undo one not followed by a directory fsync).
// Thread-safety: every hook may be called from any thread; the journal is
// opened once, on first use.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace {

using OpenFn = int (*)(const char*, int, ...);
using OpenAtFn = int (*)(int, const char*, int, ...);
using SyncFn = int (*)(int);

template <class Fn>
Fn real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

struct Journal {
  int fd = -1;
  std::string root;  // absolute, without a trailing slash
};

const Journal& journal() {
  static const Journal j = [] {
    Journal out;
    const char* path = std::getenv("CAIRN_SYNC_JOURNAL");
    const char* root = std::getenv("CAIRN_SYNC_JOURNAL_ROOT");
    char resolved[PATH_MAX];
    if (!path || !root || !realpath(root, resolved)) return out;
    out.root = resolved;
    out.fd = real<OpenFn>("open")(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    return out;
  }();
  return j;
}

// The absolute path an open descriptor names ("" if unknown).
std::string fd_path(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char target[PATH_MAX];
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return "";
  return std::string(target, static_cast<size_t>(n));
}

bool under_root(const std::string& path) {
  const Journal& j = journal();
  return j.fd >= 0 && !path.empty() && path.compare(0, j.root.size(), j.root) == 0 &&
         (path.size() == j.root.size() || path[j.root.size()] == '/');
}

void note(const char* format, ...) {
  char line[2 * PATH_MAX];
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  if (n > 0 && static_cast<size_t>(n) < sizeof line) {
    ssize_t written = write(journal().fd, line, static_cast<size_t>(n));
    (void)written;  // a journal that cannot be written makes the test fail later, loudly
  }
}

bool exists_at(int dirfd, const char* path) {
  struct stat st;
  return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

void note_created(int fd) {
  std::string path = fd_path(fd);
  struct stat st;
  if (under_root(path) && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    note("C %lu %lu %s\n", static_cast<unsigned long>(st.st_dev), static_cast<unsigned long>(st.st_ino),
         path.c_str());
}

int synced(int fd, SyncFn call) {
  int saved = errno;
  struct stat before;
  bool known = fstat(fd, &before) == 0;
  errno = saved;
  int rc = call(fd);
  if (rc != 0 || !known) return rc;
  saved = errno;
  std::string path = fd_path(fd);
  if (under_root(path)) {
    if (S_ISDIR(before.st_mode))
      note("D %s\n", path.c_str());
    else if (S_ISREG(before.st_mode))
      note("S %lu %lu %lld\n", static_cast<unsigned long>(before.st_dev), static_cast<unsigned long>(before.st_ino),
           static_cast<long long>(before.st_size));
  }
  errno = saved;
  return rc;
}

int opened_at(int dirfd, const char* path, int flags, mode_t mode, bool at, const char* name) {
  bool creating = (flags & O_CREAT) && journal().fd >= 0 && !exists_at(dirfd, path);
  int fd = at ? real<OpenAtFn>(name)(dirfd, path, flags, mode) : real<OpenFn>(name)(path, flags, mode);
  if (fd >= 0 && creating) {
    int saved = errno;
    note_created(fd);
    errno = saved;
  }
  return fd;
}

mode_t mode_arg(int flags, va_list args) {
  return (flags & (O_CREAT | O_TMPFILE)) ? static_cast<mode_t>(va_arg(args, int)) : 0;
}

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  mode_t mode = mode_arg(flags, args);
  va_end(args);
  return opened_at(AT_FDCWD, path, flags, mode, false, "open");
}

int open64(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  mode_t mode = mode_arg(flags, args);
  va_end(args);
  return opened_at(AT_FDCWD, path, flags, mode, false, "open64");
}

int openat(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  mode_t mode = mode_arg(flags, args);
  va_end(args);
  return opened_at(dirfd, path, flags, mode, true, "openat");
}

int openat64(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  mode_t mode = mode_arg(flags, args);
  va_end(args);
  return opened_at(dirfd, path, flags, mode, true, "openat64");
}

int creat(const char* path, mode_t mode) {
  return opened_at(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, false, "open");
}

int fsync(int fd) {
  static const SyncFn call = real<SyncFn>("fsync");
  return synced(fd, call);
}

int fdatasync(int fd) {
  static const SyncFn call = real<SyncFn>("fdatasync");
  return synced(fd, call);
}

}  // extern "C"
