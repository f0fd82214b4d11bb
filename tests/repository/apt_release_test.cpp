// SPDX-License-Identifier: Apache-2.0
// apt Release files: the SHA256 field of a real apt-ftparchive Release, and every way a
// Release is refused before anything on disk is looked at.
#include "catsign/repository/apt_release.hpp"

#include <gtest/gtest.h>

#include "../support/process.hpp"
#include "catsign/error.hpp"

namespace catsign::repository {
namespace {

const std::string kSha = "4e30cb465e3ad77da89777a29fcdfbf9f8a53fdc7e003d858927f3d69f00cde2";

std::string release_with(const std::string& sha256_lines, const std::string& before = "") {
  return "Origin: test\n" + before + "Suite: bookworm\nSHA256:\n" + sha256_lines + "Date: now\n";
}

void expect_malformed(const std::string& text, std::initializer_list<std::string> needles) {
  SCOPED_TRACE(text.substr(0, 120));
  try {
    parse_apt_release(text);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::malformed) << e.what();
    std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line";
    EXPECT_LT(msg.size(), 400u);
  }
}

TEST(AptRelease, ReadsApt_ftparchiveOutput) {
  std::vector<ListedFile> files =
      parse_apt_release(testing::read_text(std::string(CATSIGN_SOURCE_DIR) + "/tests/data/repository/Release"));
  ASSERT_EQ(files.size(), 2u);  // SHA256 only, not MD5Sum, SHA1 or SHA512
  EXPECT_EQ(files[0].path, "main/binary-all/Packages");
  EXPECT_EQ(files[0].size, 468u);
  EXPECT_EQ(files[0].hash, "SHA-256");
  EXPECT_EQ(to_hex(files[0].digest), kSha);
  EXPECT_EQ(files[1].path, "main/binary-all/Packages.gz");
  EXPECT_EQ(files[1].size, 362u);
  EXPECT_EQ(files[1].line, 14u);
}

TEST(AptRelease, AcceptsWhatDeb822Allows) {
  // Any case for field names, tabs, trailing blank lines, no final newline, upper-case hex.
  std::string upper = kSha;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto files = parse_apt_release("Suite: x\nsha256:\n\t" + upper + "\t12 main/a\n  " + kSha + " 0 b\n\n\n");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(to_hex(files[0].digest), kSha);
  EXPECT_EQ(files[1].size, 0u);
  EXPECT_EQ(parse_apt_release("SHA256:\n " + kSha + " 1 a").size(), 1u);
  // Other multi-line fields are skipped, whatever their lines hold.
  EXPECT_EQ(parse_apt_release(release_with(" " + kSha + " 1 a\n", "MD5Sum:\n whatever at all\n")).size(), 1u);
}

TEST(AptRelease, RefusesWhatIsNotOneParagraph) {
  expect_malformed("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSHA256:\n " + kSha + " 1 a\n",
                   {"line 1", "InRelease"});
  expect_malformed(" continued\nSHA256:\n " + kSha + " 1 a\n", {"line 1", "continuation line before"});
  expect_malformed("SHA256:\n " + kSha + " 1 a\n\nSuite: again\n", {"line 4", "second paragraph"});
  expect_malformed("Suite: a\nSuite: b\nSHA256:\n " + kSha + " 1 a\n", {"line 2", "twice"});
  expect_malformed("Suite: a\nsuite: b\n", {"twice"});
  expect_malformed("Suite: a\r\nSHA256:\n " + kSha + " 1 a\n", {"line 1", "CR"});
  expect_malformed(std::string("Suite: a\0b\nSHA256:\n ", 21) + kSha + " 1 a\n", {"NUL"});
  expect_malformed("#comment: x\nSHA256:\n " + kSha + " 1 a\n", {"field name"});
  expect_malformed("-Field: x\n", {"field name"});
  expect_malformed("Bad Name: x\n", {"field name"});
  expect_malformed(": x\n", {"field name"});
  expect_malformed("", {"no SHA256 field"});
  expect_malformed("Suite: bookworm\n", {"no SHA256 field"});
  expect_malformed(release_with(""), {"lists no files"});
  expect_malformed("SHA256:\n " + kSha + " 1 b\n" + release_with(" " + kSha + " 1 a\n"), {"line 5", "SHA256 appears twice"});
}

TEST(AptRelease, RefusesBadEntries) {
  expect_malformed("SHA256: " + kSha + " 1 a\n", {"field's own line must be empty"});
  expect_malformed(release_with(" " + kSha + " 1\n"), {"line 4", "2 fields"});
  expect_malformed(release_with(" " + kSha + " 1 a b\n"), {"4 fields"});
  expect_malformed(release_with(" " + kSha.substr(1) + " 1 a\n"), {"not 64 hex"});
  expect_malformed(release_with(" " + kSha.substr(1) + "g 1 a\n"), {"not 64 hex"});
  expect_malformed(release_with(" " + kSha + " -1 a\n"), {"size"});
  expect_malformed(release_with(" " + kSha + " 0x10 a\n"), {"size"});
  expect_malformed(release_with(" " + kSha + " 99999999999999999999 a\n"), {"size"});
  for (const char* path : {"/etc/passwd", "../Packages", "main/../../x", "main//Packages", "./Packages", "main/.",
                           "a\\b", "main/\x7f"}) {
    expect_malformed(release_with(" " + kSha + " 1 " + path + "\n"), {"not a plain relative path"});
  }
  expect_malformed(release_with(" " + kSha + " 1 a\n " + kSha + " 2 a\n"), {"line 5", "lists a twice"});
  expect_malformed(release_with(" .\n"), {"1 fields"});
}

TEST(ListedPath, PlainRelativePathsOnly) {
  EXPECT_TRUE(listed_path_ok("main/binary-amd64/Packages.xz"));
  EXPECT_TRUE(listed_path_ok("repodata/abc-primary.xml.gz"));
  EXPECT_TRUE(listed_path_ok("..a/b..")) << "dots inside a name are fine";
  for (const char* p : {"", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "a b", "a\tb", "a\\b"})
    EXPECT_FALSE(listed_path_ok(p)) << p;
  EXPECT_FALSE(listed_path_ok(std::string(1025, 'a')));
  EXPECT_FALSE(listed_path_ok(std::string("a\0b", 3)));
}

}  // namespace
}  // namespace catsign::repository
