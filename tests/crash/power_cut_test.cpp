// sync_journal.so and power_cut together, on real files: a child process
// (this test binary again, with the library preloaded) renames and unlinks
// files under a temp directory, with or without a directory fsync after;
// power_cut() must then leave what a power cut would: an unlink or a
// replacing rename whose directory was not synced since never happened.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/crash/power_cut.h"

namespace {

namespace fs = std::filesystem;

constexpr const char* kScenario = "CAIRN_POWER_CUT_TEST_SCENARIO";
constexpr const char* kDirectory = "CAIRN_POWER_CUT_TEST_DIRECTORY";

void write_synced(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) || fsync(fd) != 0)
    _exit(2);
  close(fd);
}

void sync_directory(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0 || fsync(fd) != 0) _exit(3);
  close(fd);
}

// In the child, before any test runs: the file operations of one scenario,
// seen by the preloaded library, then exit.
[[maybe_unused]] const bool kChildRan = [] {
  const char* scenario = std::getenv(kScenario);
  const char* directory = std::getenv(kDirectory);
  if (!scenario || !directory) return false;
  // Each scenario is a list of steps.
  const std::string dir = directory;
  std::istringstream steps(scenario);
  for (std::string step; steps >> step;) {
    if (step == "replace") {  // a with new contents, through a synced temp file
      write_synced(dir + "/a.tmp", "new contents");
      if (rename((dir + "/a.tmp").c_str(), (dir + "/a").c_str()) != 0) _exit(4);
    } else if (step == "unlink-a") {
      if (unlink((dir + "/a").c_str()) != 0) _exit(5);
    } else if (step == "unlink-c") {
      if (unlink((dir + "/c").c_str()) != 0) _exit(5);
    } else if (step == "remove-c") {  // libstdc++: remove(), not unlink()
      std::error_code ec;
      if (!fs::remove(dir + "/c", ec)) _exit(6);
    } else if (step == "grow-c") {  // bytes no fsync covers
      int fd = open((dir + "/c").c_str(), O_WRONLY | O_APPEND);
      if (fd < 0 || write(fd, " and more", 9) != 9) _exit(7);
      close(fd);
    } else if (step == "sync") {
      sync_directory(dir);
    } else {
      _exit(8);
    }
  }
  _exit(0);
}();

// The names in `dir`, sorted.
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class PowerCutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("power-cut-" + std::to_string(getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(data());
    std::ofstream(data() / "a") << "old contents";
    std::ofstream(data() / "c") << "kept contents";
    std::ofstream baseline(root_ / "baseline.txt");
    for (const char* name : {"a", "c"}) {
      struct stat st;
      ASSERT_EQ(stat((data() / name).c_str(), &st), 0);
      baseline << st.st_dev << ' ' << st.st_ino << ' ' << st.st_size << '\n';
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path data() const { return root_ / "data"; }

  // Runs `scenario` in a child with the library preloaded, then the cut.
  void run_and_cut(const std::string& scenario) {
    const std::string journal = (root_ / "journal.txt").string();
    std::vector<std::string> env = {std::string("LD_PRELOAD=") + SYNC_JOURNAL_LIBRARY,
                                    "CAIRN_SYNC_JOURNAL=" + journal,
                                    "CAIRN_SYNC_JOURNAL_ROOT=" + data().string(),
                                    std::string(kScenario) + "=" + scenario,
                                    std::string(kDirectory) + "=" + data().string()};
    for (char** e = environ; *e; ++e)  // the rest of this process's environment
      if (!std::string_view(*e).starts_with("LD_PRELOAD=")) env.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    char self[] = "power_cut_child";
    char* argv[] = {self, nullptr};
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      execve("/proc/self/exe", argv, envp.data());
      _exit(127);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    ASSERT_EQ(cairn::crash::power_cut(journal, data().string(), (root_ / "baseline.txt").string()), 0);
  }

  fs::path root_;
};

const std::vector<std::string> kBoth = {"a", "c"};

TEST_F(PowerCutTest, AReplacingRenameWithoutADirectorySyncNeverHappened) {
  run_and_cut("replace");
  EXPECT_EQ(names_in(data()), kBoth);
  EXPECT_EQ(read_all(data() / "a"), "old contents");
  EXPECT_EQ(read_all(data() / "c"), "kept contents");
}

TEST_F(PowerCutTest, AReplacingRenameFollowedByADirectorySyncStands) {
  run_and_cut("replace sync");
  EXPECT_EQ(names_in(data()), kBoth);
  EXPECT_EQ(read_all(data() / "a"), "new contents");
}

TEST_F(PowerCutTest, AfterASyncedReplacementAnUnsyncedUnlinkBringsBackTheNewFile) {
  run_and_cut("replace sync unlink-a");
  EXPECT_EQ(names_in(data()), kBoth);
  EXPECT_EQ(read_all(data() / "a"), "new contents");  // not the old one, whose unlink was synced
}

TEST_F(PowerCutTest, AnUnlinkWithoutADirectorySyncNeverHappened) {
  run_and_cut("unlink-c");
  EXPECT_EQ(names_in(data()), kBoth);
  EXPECT_EQ(read_all(data() / "c"), "kept contents");
}

TEST_F(PowerCutTest, AFileBroughtBackHoldsOnlyWhatWasDurable) {
  run_and_cut("grow-c unlink-c");
  EXPECT_EQ(read_all(data() / "c"), "kept contents");  // not " and more": never synced
}

TEST_F(PowerCutTest, AFilesystemRemoveIsSeenToo) {
  run_and_cut("remove-c");
  EXPECT_EQ(read_all(data() / "c"), "kept contents");
}

TEST_F(PowerCutTest, AnUnlinkFollowedByADirectorySyncStands) {
  run_and_cut("unlink-c sync");
  EXPECT_EQ(names_in(data()), std::vector<std::string>{"a"});
  EXPECT_EQ(read_all(data() / "a"), "old contents");  // untouched
}

}  // namespace
