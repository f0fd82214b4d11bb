// SPDX-License-Identifier: Apache-2.0
#include "catsign/util/file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include "../support/process.hpp"
#include "catsign/error.hpp"
#include "catsign/util/bytes.hpp"

namespace catsign {
namespace {

using testing::TempDir;

// A bounded read never hands the sink a byte past its limit, and says there was more; a pipe
// whose writer never stops (a file that keeps growing) costs limit + 1 bytes, not forever.
TEST(ReadUpTo, StopsAtTheLimitAndSaysThereWasMore) {
  TempDir d;
  const std::string data(200000, 'x');
  testing::write_text(d / "f", data);
  for (std::uint64_t limit : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{65536}, std::uint64_t{199999}}) {
    UniqueFd fd = open_for_reading(d / "f");
    std::uint64_t given = 0;
    const std::uint64_t got = read_fd_chunks_up_to(fd.get(), "f", limit, [&](ByteView c) { given += c.size(); });
    EXPECT_EQ(got, limit + 1) << limit;
    EXPECT_EQ(given, limit) << limit;
  }
  for (std::uint64_t limit : {std::uint64_t{200000}, std::uint64_t{1} << 40}) {
    UniqueFd fd = open_for_reading(d / "f");
    std::uint64_t given = 0;
    EXPECT_EQ(read_fd_chunks_up_to(fd.get(), "f", limit, [&](ByteView c) { given += c.size(); }), 200000u);
    EXPECT_EQ(given, 200000u);
  }
  UniqueFd zero(::open("/dev/zero", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(zero);
  std::uint64_t given = 0;
  EXPECT_EQ(read_fd_chunks_up_to(zero.get(), "/dev/zero", 100000, [&](ByteView c) { given += c.size(); }), 100001u);
  EXPECT_EQ(given, 100000u);
}

TEST(AtomicFile, WritesAndReplaces) {
  TempDir d;
  write_file_atomically(d / "f", as_bytes("one"), 0600);
  EXPECT_EQ(testing::read_text(d / "f"), "one");
  struct stat st {};
  ASSERT_EQ(::stat((d / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  write_file_atomically(d / "f", as_bytes("two"));
  EXPECT_EQ(testing::read_text(d / "f"), "two");
}

TEST(AtomicFile, FailureLeavesTheOldFileAndNoTemporary) {
  TempDir d;
  write_file_atomically(d / "f", as_bytes("old"));
  EXPECT_THROW(write_file_atomically(d / "f", [](FileWriter& w) {
                 w.write(std::string_view("half"));
                 throw Error(Errc::token, "token gone");
               }),
               Error);
  EXPECT_EQ(testing::read_text(d / "f"), "old");
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(d.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(AtomicFile, MissingFolderIsAClearError) {
  try {
    write_file_atomically("/nonexistent-dir/f", as_bytes("x"));
    FAIL();
  } catch (const Error& e) {
    // A folder that is not there is the caller's to fix: exit 2, like any missing file.
    EXPECT_EQ(e.code(), Errc::missing_file);
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/f"), std::string::npos);
  }
}

// ---- relative to a folder's descriptor ----

UniqueFd open_folder(const std::filesystem::path& p) {
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) ADD_FAILURE() << "cannot open " << p;
  return fd;
}

std::vector<std::string> entries(const std::filesystem::path& p) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator(p)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(AtomicFileAt, WritesThroughTheDescriptorWhateverBecomesOfThePath) {
  TempDir d;
  std::filesystem::create_directories(d / "spool");
  std::filesystem::create_directories(d / "elsewhere");
  UniqueFd dir = open_folder(d / "spool");
  // The folder is moved away and its path made a link to another: the descriptor still
  // names the folder it was, and nothing is written through the path.
  std::filesystem::rename(d / "spool", d / "moved");
  std::filesystem::create_directory_symlink(d / "elsewhere", d / "spool");
  write_file_atomically_at(dir.get(), "a.asc", as_bytes("signed"), 0640, (d / "spool").string());
  EXPECT_EQ(testing::read_text(d / "moved/a.asc"), "signed");
  EXPECT_TRUE(entries(d / "elsewhere").empty());
  EXPECT_EQ(entries(d / "moved"), std::vector<std::string>{"a.asc"});  // no temporary left
  struct stat st {};
  ASSERT_EQ(::lstat((d / "moved/a.asc").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  write_file_atomically_at(dir.get(), "a.asc", [](FileWriter& w) { w.write(std::string_view("again")); }, 0600,
                           "spool");
  EXPECT_EQ(testing::read_text(d / "moved/a.asc"), "again");
}

TEST(AtomicFileAt, RefusesNamesThatAreNotOneEntry) {
  TempDir d;
  std::filesystem::create_directories(d / "spool/sub");
  UniqueFd dir = open_folder(d / "spool");
  for (const std::string& bad : {std::string(), std::string("."), std::string(".."), std::string("sub/x"),
                                 std::string("../x"), std::string("/tmp/x"), std::string("a\0b", 3)}) {
    try {
      write_file_atomically_at(dir.get(), bad, as_bytes("x"), 0640, "spool");
      ADD_FAILURE() << "wrote '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::usage) << e.what();
      EXPECT_NE(std::string(e.what()).find("not a plain file name"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(entries(d / "spool"), std::vector<std::string>{"sub"});
  EXPECT_TRUE(entries(d / "spool/sub").empty());
  EXPECT_EQ(entries(d.path()), std::vector<std::string>{"spool"});
}

TEST(AtomicFileAt, ReplacesASymlinkAndNeverFollowsIt) {
  TempDir d;
  std::filesystem::create_directories(d / "spool");
  testing::write_text(d / "target", "untouched");
  std::filesystem::create_symlink(d / "target", d / "spool/a.asc");
  UniqueFd dir = open_folder(d / "spool");
  write_file_atomically_at(dir.get(), "a.asc", as_bytes("answer"), 0640, "spool");
  EXPECT_FALSE(std::filesystem::is_symlink(d / "spool/a.asc"));
  EXPECT_EQ(testing::read_text(d / "spool/a.asc"), "answer");
  EXPECT_EQ(testing::read_text(d / "target"), "untouched");
}

TEST(AtomicFileAt, AFolderInTheWayFailsAndLeavesNothingBehind) {
  TempDir d;
  std::filesystem::create_directories(d / "spool/a.asc/inside");
  UniqueFd dir = open_folder(d / "spool");
  try {
    write_file_atomically_at(dir.get(), "a.asc", as_bytes("answer"), 0640, "spool");
    ADD_FAILURE() << "renamed over a folder";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io);
    EXPECT_NE(std::string(e.what()).find("spool/a.asc"), std::string::npos) << e.what();
  }
  EXPECT_EQ(entries(d / "spool"), std::vector<std::string>{"a.asc"});
  EXPECT_EQ(entries(d / "spool/a.asc"), std::vector<std::string>{"inside"});
}

TEST(ReadFile, EnforcesTheSizeCap) {
  TempDir d;
  testing::write_text(d / "big", std::string(100, 'x'));
  EXPECT_EQ(read_file(d / "big", 100).size(), 100u);
  EXPECT_THROW(read_file(d / "big", 99), Error);
  EXPECT_THROW(read_file(d.path(), 99), Error);
}

TEST(Hex, RoundTripsAndRefusesBadInput) {
  Bytes b{0x00, 0xab, 0xff};
  EXPECT_EQ(to_hex(b), "00abff");
  EXPECT_EQ(from_hex("00ABff"), b);
  EXPECT_THROW(from_hex("abc"), Error);
  EXPECT_THROW(from_hex("zz"), Error);
}

}  // namespace
}  // namespace catsign
