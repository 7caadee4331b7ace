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
//   d <path>               an fsync of a directory begins
//   D <path>               ... and succeeded: the names the directory held
//                          when it began (creations and renames included)
//                          are durable
//   R <dev> <ino> <path>   a file was renamed to <path>; the new name is
//                          durable once its directory is synced
//   U <dev> <ino> <grave> <path>   the file at <path> was unlinked, or a
//                          rename replaced it; the unlink is durable once its
//                          directory is synced. Until then a power cut brings
//                          the file back, so before the unlink it is kept
//                          alive as a hard link named <grave> in the
//                          directory CAIRN_SYNC_JOURNAL.graveyard (on the data
//                          directory's file system)
//   u <errno> <path>       the same, but no hard link could be made: the
//                          unlink counts as durable at once (power-cut says so)
// one line per event (a replacing rename's U and R in one), appended with one
// write() to CAIRN_SYNC_JOURNAL (a kill -9 does not lose it: it is in the
// page cache like everything else; a kill between a call and its line loses
// the line). Not recorded, so durable at once for the test: new and removed
// directories, and RENAME_EXCHANGE swaps. A rename is recorded by its new
// name only: if a power cut undoes it, the file is deleted, not put back
// under its old name (which only matters for an old name that was durable).
// Thread-safety: every hook may be called from any thread; the journal is
// opened once, on first use.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
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
using RenameFn = int (*)(const char*, const char*);
using RenameAtFn = int (*)(int, const char*, int, const char*);
using RenameAt2Fn = int (*)(int, const char*, int, const char*, unsigned int);
using UnlinkFn = int (*)(const char*);
using UnlinkAtFn = int (*)(int, const char*, int);

template <class Fn>
Fn real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

// errno as it was, again when the scope ends (the hooks' own calls must
// not change what the caller sees).
class KeepErrno {
 public:
  KeepErrno() : saved_(errno) {}
  ~KeepErrno() { errno = saved_; }

 private:
  int saved_;
};

struct Journal {
  int fd = -1;
  std::string root;       // absolute, without a trailing slash
  std::string graveyard;  // where unlinked files are kept alive
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
    out.graveyard = std::string(path) + ".graveyard";
    mkdir(out.graveyard.c_str(), 0700);  // EEXIST: another process of the run made it
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

// One or more journal lines, in one write() (lines written apart could have
// another thread's line between them).
void note_lines(const std::string& lines) {
  if (lines.empty()) return;
  ssize_t written = write(journal().fd, lines.data(), lines.size());
  (void)written;  // a short write leaves a torn last line, which power-cut ignores
}

std::string line_of(const char* format, ...) {
  char line[2 * PATH_MAX];
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  return n > 0 && static_cast<size_t>(n) < sizeof line ? std::string(line, static_cast<size_t>(n)) : "";
}

template <class... Args>
void note(const char* format, Args... args) {
  note_lines(line_of(format, args...));
}

bool exists_at(int dirfd, const char* path) {  // errno may change
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
  struct stat before;
  std::string path;
  bool journaled = false;
  {
    KeepErrno keep;
    journaled = fstat(fd, &before) == 0 && (S_ISDIR(before.st_mode) || S_ISREG(before.st_mode)) &&
                under_root(path = fd_path(fd));
    // What a directory fsync covers is what the directory held when it began.
    if (journaled && S_ISDIR(before.st_mode)) note("d %s\n", path.c_str());
  }
  int rc = call(fd);
  if (rc != 0 || !journaled) return rc;
  KeepErrno keep;
  if (S_ISDIR(before.st_mode))
    note("D %s\n", path.c_str());
  else
    note("S %lu %lu %lld\n", static_cast<unsigned long>(before.st_dev), static_cast<unsigned long>(before.st_ino),
         static_cast<long long>(before.st_size));
  return rc;
}

// `call` opens; `dirfd` and `path` name what it opens (for the check that
// it did not exist before).
template <class Call>
int opened(int dirfd, const char* path, int flags, Call call) {
  bool creating = false;
  {
    KeepErrno keep;
    creating = (flags & O_CREAT) && journal().fd >= 0 && !exists_at(dirfd, path);
  }
  int fd = call();
  if (fd >= 0 && creating) {
    KeepErrno keep;
    note_created(fd);
  }
  return fd;
}

// open's third argument, the mode, if the caller passed one (glibc's own
// rule for when it does); `args` is after `flags`.
mode_t mode_from(int flags, va_list args) {
  bool passed = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
  return passed ? static_cast<mode_t>(va_arg(args, int)) : 0;
}

// The absolute path of `path` (relative to `dirfd`), its directory resolved
// as /proc/self/fd shows paths ("" if unknown).
std::string absolute_at(int dirfd, const char* path) {
  std::string whole;
  if (path[0] == '/') {
    whole = path;
  } else if (dirfd == AT_FDCWD) {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return "";
    whole = std::string(cwd) + "/" + path;
  } else {
    whole = fd_path(dirfd) + "/" + path;
  }
  size_t slash = whole.rfind('/');
  std::string directory = slash == 0 ? "/" : whole.substr(0, slash);
  char resolved[PATH_MAX];
  if (!realpath(directory.c_str(), resolved)) return "";
  return std::string(resolved) + whole.substr(slash);
}

// The R line for a file renamed to `to` ("" if it is not journaled).
std::string renamed_line(int dirfd, const char* to) {
  KeepErrno keep;
  struct stat st;
  if (journal().fd < 0 || fstatat(dirfd, to, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) return "";
  std::string path = absolute_at(dirfd, to);
  if (!under_root(path)) return "";
  return line_of("R %lu %lu %s\n", static_cast<unsigned long>(st.st_dev), static_cast<unsigned long>(st.st_ino),
                 path.c_str());
}

// A file about to lose its name: kept alive as a hard link in the graveyard.
struct Grave {
  struct stat st {};
  std::string path;   // the name it loses (absolute); "": not journaled (not a regular file under the root)
  std::string name;   // its hard link's name in the graveyard; "": none could be made
  int link_error = 0;  // why not
};

Grave dig(int dirfd, const char* path) {
  KeepErrno keep;
  Grave g;
  const Journal& j = journal();
  if (j.fd < 0 || fstatat(dirfd, path, &g.st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(g.st.st_mode)) return g;
  g.path = absolute_at(dirfd, path);
  if (!under_root(g.path)) {
    g.path.clear();
    return g;
  }
  static std::atomic<unsigned long> count{0};
  std::string name = std::to_string(getpid()) + "." + std::to_string(count++);
  if (linkat(dirfd, path, AT_FDCWD, (j.graveyard + "/" + name).c_str(), 0) == 0)
    g.name = name;
  else
    g.link_error = errno;
  return g;
}

// After the unlink or replacing rename: its journal line if it happened (a
// "u" line, which power-cut reports, if the file could not be kept), else
// the grave is filled in again.
std::string buried(const Grave& g, bool unlinked) {
  if (g.path.empty()) return "";
  KeepErrno keep;
  if (!unlinked) {
    if (!g.name.empty()) real<UnlinkFn>("unlink")((journal().graveyard + "/" + g.name).c_str());
    return "";
  }
  if (g.name.empty()) return line_of("u %d %s\n", g.link_error, g.path.c_str());
  return line_of("U %lu %lu %s %s\n", static_cast<unsigned long>(g.st.st_dev),
                 static_cast<unsigned long>(g.st.st_ino), g.name.c_str(), g.path.c_str());
}

// The file a rename to `to` replaces, if any (and not `from` itself).
Grave replaced(int from_dir, const char* from, int to_dir, const char* to) {
  struct stat source;
  {
    KeepErrno keep;
    if (journal().fd < 0 || fstatat(from_dir, from, &source, AT_SYMLINK_NOFOLLOW) != 0) return {};
  }
  Grave g = dig(to_dir, to);
  if (!g.path.empty() && g.st.st_dev == source.st_dev && g.st.st_ino == source.st_ino) {
    buried(g, false);
    return {};
  }
  return g;
}

// Runs `call`, an unlink that takes `g`'s name away, and journals it.
template <class Call>
int unlinking(const Grave& g, Call call) {
  int rc = call();
  note_lines(buried(g, rc == 0));
  return rc;
}

// Runs `call`, a rename to `to` that replaces `old` (if anything), and
// journals both in one write.
template <class Call>
int renaming(const Grave& old, int to_dir, const char* to, Call call) {
  int rc = call();
  note_lines(buried(old, rc == 0) + (rc == 0 ? renamed_line(to_dir, to) : ""));
  return rc;
}

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
  static const OpenFn call = real<OpenFn>("open");
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_from(flags, args);
  va_end(args);
  return opened(AT_FDCWD, path, flags, [&] { return call(path, flags, mode); });
}

int open64(const char* path, int flags, ...) {
  static const OpenFn call = real<OpenFn>("open64");
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_from(flags, args);
  va_end(args);
  return opened(AT_FDCWD, path, flags, [&] { return call(path, flags, mode); });
}

int openat(int dirfd, const char* path, int flags, ...) {
  static const OpenAtFn call = real<OpenAtFn>("openat");
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_from(flags, args);
  va_end(args);
  return opened(dirfd, path, flags, [&] { return call(dirfd, path, flags, mode); });
}

int openat64(int dirfd, const char* path, int flags, ...) {
  static const OpenAtFn call = real<OpenAtFn>("openat64");
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_from(flags, args);
  va_end(args);
  return opened(dirfd, path, flags, [&] { return call(dirfd, path, flags, mode); });
}

int creat(const char* path, mode_t mode) { return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode); }

int creat64(const char* path, mode_t mode) { return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode); }

int rename(const char* from, const char* to) {
  static const RenameFn call = real<RenameFn>("rename");
  return renaming(replaced(AT_FDCWD, from, AT_FDCWD, to), AT_FDCWD, to, [&] { return call(from, to); });
}

int renameat(int from_dir, const char* from, int to_dir, const char* to) {
  static const RenameAtFn call = real<RenameAtFn>("renameat");
  return renaming(replaced(from_dir, from, to_dir, to), to_dir, to, [&] { return call(from_dir, from, to_dir, to); });
}

int renameat2(int from_dir, const char* from, int to_dir, const char* to, unsigned int flags) {
  static const RenameAt2Fn call = real<RenameAt2Fn>("renameat2");
  // RENAME_NOREPLACE replaces nothing; RENAME_EXCHANGE swaps two names,
  // which is not modelled: nothing is journaled for it (the swap counts as
  // durable at once).
  if (flags & RENAME_EXCHANGE) return call(from_dir, from, to_dir, to, flags);
  return renaming(flags == 0 ? replaced(from_dir, from, to_dir, to) : Grave{}, to_dir, to,
                  [&] { return call(from_dir, from, to_dir, to, flags); });
}

int unlink(const char* path) {
  static const UnlinkFn call = real<UnlinkFn>("unlink");
  return unlinking(dig(AT_FDCWD, path), [&] { return call(path); });
}

int unlinkat(int dirfd, const char* path, int flags) {
  static const UnlinkAtFn call = real<UnlinkAtFn>("unlinkat");
  return unlinking((flags & AT_REMOVEDIR) ? Grave{} : dig(dirfd, path), [&] { return call(dirfd, path, flags); });
}

// glibc's remove() unlinks through an internal call the hooks above do not see.
int remove(const char* path) {
  static const UnlinkFn call = real<UnlinkFn>("remove");
  return unlinking(dig(AT_FDCWD, path), [&] { return call(path); });
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
