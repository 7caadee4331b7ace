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
      // An old file renamed keeps what it held at the start.
      durable = fate.synced ? fate.synced_size : fate.in_baseline ? fate.baseline_size : 0;
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
  std::cout << "power-cut: " << deleted << " files deleted, " << cut << " cut short, " << kept
            << " intact; " << bytes_lost << " unsynced bytes dropped\n";
  return 0;
}

}  // namespace cairn::crash
