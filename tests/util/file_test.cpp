#include "catsign/util/file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "../support/process.hpp"
#include "catsign/error.hpp"
#include "catsign/util/bytes.hpp"

namespace catsign {
namespace {

using testing::TempDir;

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
