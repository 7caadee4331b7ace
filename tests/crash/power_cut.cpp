#include "tests/crash/power_cut.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <iterator>
#include <iostream>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

namespace cairn::crash {
namespace {

namespace fs = std::filesystem;
using FileId = std::pair<uint64_t, uint64_t>;  // st_dev, st_ino

struct FileFate {
  bool in_baseline = false;
  bool created = false;        // or renamed, during the run
  uint64_t created_at = 0;     // journal line of the creation or rename
  std::string directory;       // where it was created or renamed to
  bool synced = false;
  uint64_t synced_size = 0;    // covered by its last fsync
  uint64_t baseline_size = 0;
};

// A file that lost its name while the server ran.
struct Unlinked {
  uint64_t at = 0;  // journal line
  FileId id;
  std::string grave, path;
};

// What a file holds after the cut: what its last fsync covered, else (an
// old file, renamed or not) what it held at the start, else nothing.
uint64_t durable_size(const FileFate& fate) {
  return fate.synced ? fate.synced_size : fate.in_baseline ? fate.baseline_size : 0;
}

}  // namespace

int power_cut(const std::string& journal, const std::string& root, const std::string& baseline) {
  std::map<FileId, FileFate> files;
  std::ifstream base(baseline);
  if (!base) {
    std::cerr << "power-cut: cannot read " << baseline << '\n';
    return 1;
  }
  uint64_t dev = 0, ino = 0, size = 0;
  while (base >> dev >> ino >> size) {
    FileFate& fate = files[{dev, ino}];
    fate.in_baseline = true;
    fate.baseline_size = size;
  }

  std::ifstream in(journal, std::ios::binary);
  if (!in) {
    std::cerr << "power-cut: cannot read " << journal << '\n';
    return 1;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A kill can cut the journal's last write short: a last line without its
  // newline is dropped.
  const size_t complete = text.rfind('\n');
  text.resize(complete == std::string::npos ? 0 : complete + 1);
  std::istringstream lines(text);
  std::map<std::string, uint64_t> directory_synced_at;  // the line its last successful fsync began at
  std::map<std::string, std::vector<uint64_t>> directory_sync_begun;  // fsyncs begun, not yet ended
  std::vector<Unlinked> unlinked;
  int not_kept = 0;
  std::string line;
  uint64_t number = 0;
  // A name given at this line: durable once its directory is synced.
  auto named_at = [&](uint64_t d, uint64_t i, const std::string& path) -> FileFate& {
    FileFate& fate = files[{d, i}];
    fate.created = true;
    fate.created_at = number;
    fate.directory = fs::path(path).parent_path().string();
    return fate;
  };
  while (std::getline(lines, line)) {
    ++number;
    std::istringstream ls(line);
    std::string kind, path;
    ls >> kind;
    if (kind == "C" && ls >> dev >> ino && std::getline(ls >> std::ws, path)) {
      FileFate& fate = named_at(dev, ino, path);  // a new file (its inode may be a deleted one's)
      fate.in_baseline = false;
      fate.synced = false;
      fate.synced_size = 0;
    } else if (kind == "R" && ls >> dev >> ino && std::getline(ls >> std::ws, path)) {
      named_at(dev, ino, path);  // its contents stay what they were
    } else if (std::string grave; kind == "U" && ls >> dev >> ino >> grave && std::getline(ls >> std::ws, path)) {
      // Its inode stays taken by the grave: no new file gets it, so its
      // record holds on (a fsync of it while still open counts too).
      unlinked.push_back({number, {dev, ino}, journal + ".graveyard/" + grave, path});
    } else if (int error = 0; kind == "u" && ls >> error && std::getline(ls >> std::ws, path)) {
      ++not_kept;
      std::cout << "power-cut: " << path << " was unlinked but not kept (errno " << error
                << "): its unlink counts as durable\n";
    } else if (kind == "S" && ls >> dev >> ino >> size) {
      FileFate& fate = files[{dev, ino}];
      fate.synced = true;
      fate.synced_size = size;
    } else if (kind == "d" && std::getline(ls >> std::ws, path)) {
      directory_sync_begun[path].push_back(number);
    } else if (kind == "D" && std::getline(ls >> std::ws, path)) {
      // Which of the fsyncs begun on it ended is not known: the earliest
      // (what it covers is certain to be covered).
      auto& begun = directory_sync_begun[path];
      if (begun.empty()) {
        std::cerr << "power-cut: journal line " << number << " ends a directory fsync never begun\n";
        return 1;
      }
      directory_synced_at[path] = std::max(directory_synced_at[path], begun.front());
      begun.erase(begun.begin());
    } else if (!line.empty()) {
      std::cerr << "power-cut: bad journal line " << number << ": " << line << '\n';
      return 1;
    }
  }

  std::vector<fs::path> paths;  // first listed, then changed
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file()) paths.push_back(entry.path());
  int deleted = 0, cut = 0, kept = 0;
  uint64_t bytes_lost = 0;
  for (const auto& path : paths) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;
    auto it = files.find({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
    const auto current = static_cast<uint64_t>(st.st_size);
    const char* why = nullptr;  // set: the file's name is lost
    uint64_t durable = 0;
    if (it == files.end() || (!it->second.created && !it->second.in_baseline)) {
      why = "created without the journal seeing it";
    } else {
      const FileFate& fate = it->second;
      auto d = fate.created ? directory_synced_at.find(fate.directory) : directory_synced_at.end();
      if (fate.created && (d == directory_synced_at.end() || d->second < fate.created_at))
        why = "created or renamed, and its directory not synced since";
      durable = durable_size(fate);
    }
    if (why) {
      fs::remove(path);
      bytes_lost += current;
      ++deleted;
      std::cout << "power-cut: deleted " << path.string() << " (" << current << " bytes; " << why << ")\n";
    } else if (durable < current) {
      fs::resize_file(path, durable);
      bytes_lost += current - durable;
      ++cut;
      std::cout << "power-cut: " << path.string() << " cut from " << current << " to " << durable << " bytes\n";
    } else {
      ++kept;
    }
  }

  // Unlinks the disk never saw, latest first: at a path, the file named
  // there last before its unlink is the one the directory still lists.
  auto synced_after = [&](const std::string& directory, uint64_t line_number) {
    auto d = directory_synced_at.find(directory);
    return d != directory_synced_at.end() && d->second > line_number;
  };
  int restored = 0;
  for (auto u = unlinked.rbegin(); u != unlinked.rend(); ++u) {
    const std::string directory = fs::path(u->path).parent_path().string();
    const FileFate& fate = files[u->id];
    const bool name_was_durable = fate.created ? synced_after(fate.directory, fate.created_at) : fate.in_baseline;
    std::error_code ec;
    if (synced_after(directory, u->at) || !name_was_durable || fs::exists(u->path, ec)) continue;
    fs::create_directories(directory, ec);
    fs::rename(u->grave, u->path);
    const uint64_t held = fs::file_size(u->path);
    const uint64_t durable = std::min(held, durable_size(fate));
    fs::resize_file(u->path, durable);
    bytes_lost += held - durable;
    ++restored;
    std::cout << "power-cut: " << u->path << " back (" << durable << " of " << held
              << " bytes; its unlink never reached the disk)\n";
  }
  std::cout << "power-cut: " << deleted << " files deleted, " << cut << " cut short, " << kept << " intact, "
            << restored << " unlinked brought back; " << bytes_lost << " unsynced bytes dropped"
            << (not_kept ? "; " + std::to_string(not_kept) + " unlinks not modelled" : "") << '\n';
  return 0;
}

}  // namespace cairn::crash
