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

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
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
  const std::string dir = directory, name = scenario;
  if (name.starts_with("replace")) {
    write_synced(dir + "/a.tmp", "new contents");
    if (rename((dir + "/a.tmp").c_str(), (dir + "/a").c_str()) != 0) _exit(4);
  } else if (name.starts_with("unlink")) {
    if (unlink((dir + "/c").c_str()) != 0) _exit(5);
  }
  if (name.ends_with("synced")) sync_directory(dir);
  _exit(0);
}();

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

TEST_F(PowerCutTest, AReplacingRenameWithoutADirectorySyncNeverHappened) {
  run_and_cut("replace");
  EXPECT_EQ(read_all(data() / "a"), "old contents");
  EXPECT_FALSE(fs::exists(data() / "a.tmp"));  // its creation was not synced either
}

TEST_F(PowerCutTest, AReplacingRenameFollowedByADirectorySyncStands) {
  run_and_cut("replace synced");
  EXPECT_EQ(read_all(data() / "a"), "new contents");
}

TEST_F(PowerCutTest, AnUnlinkWithoutADirectorySyncNeverHappened) {
  run_and_cut("unlink");
  EXPECT_EQ(read_all(data() / "c"), "kept contents");
}

TEST_F(PowerCutTest, AnUnlinkFollowedByADirectorySyncStands) {
  run_and_cut("unlink synced");
  EXPECT_FALSE(fs::exists(data() / "c"));
  EXPECT_EQ(read_all(data() / "a"), "old contents");  // untouched
}

}  // namespace
