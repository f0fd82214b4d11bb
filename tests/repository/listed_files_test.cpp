// SPDX-License-Identifier: Apache-2.0
// verify_listed_files on a real tree: each file an index lists is opened beneath the
// repository's root and compared by size, then hash; everything that could make the check
// read outside the tree or stall it is reported, never followed.
#include "catsign/repository/listed_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <botan/hash.h>
#include <botan/hex.h>

#include "../support/process.hpp"
#include "catsign/error.hpp"

namespace catsign::repository {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_text;

std::string sha256(const std::string& data) {
  auto h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(data);
  return Botan::hex_encode(h->final(), false);
}

ListedFile listed(const std::string& path, const std::string& data) {
  return {path, data.size(), "SHA-256", from_hex(sha256(data)), 1};
}

class ListedFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "root/dists/bookworm/main/binary-all");
    write_text(dir_ / "root/dists/bookworm/main/binary-all/Packages", packages_);
    write_text(dir_ / "outside", packages_);
  }
  fs::path root() const { return dir_ / "root"; }
  ListedReport check(const std::vector<ListedFile>& files) {
    catalog::Root r(root(), "repository");
    return check_listed_files(r, "dists/bookworm", "Release", files);
  }

  TempDir dir_;
  std::string packages_ = "Package: catsign-hello\nVersion: 1.0\n";
};

TEST_F(ListedFiles, MatchingFilesPass) {
  ListedReport r = check({listed("main/binary-all/Packages", packages_)});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.summary(), "all 1 files Release lists match the tree");
}

TEST_F(ListedFiles, EachKindOfMismatchIsNamed) {
  ListedFile wrong_hash = listed("main/binary-all/Packages", packages_);
  wrong_hash.digest[0] ^= 1;
  ListedReport r = check({listed("main/binary-all/Packages", packages_ + "x"), wrong_hash,
                          listed("main/binary-all/Packages.xz", "gone")});
  ASSERT_EQ(r.files.size(), 3u);
  EXPECT_EQ(r.failures(), 3u);
  EXPECT_EQ(r.files[0].status, ListedStatus::size_mismatch);
  EXPECT_NE(r.files[0].detail.find("size 36, the index says 37"), std::string::npos) << r.files[0].detail;
  EXPECT_EQ(r.files[1].status, ListedStatus::hash_mismatch);
  EXPECT_NE(r.files[1].detail.find(sha256(packages_)), std::string::npos) << r.files[1].detail;
  EXPECT_EQ(r.files[2].status, ListedStatus::missing);
  EXPECT_NE(r.files[2].detail.find("does not exist"), std::string::npos) << r.files[2].detail;
  std::string s = r.summary(2);
  EXPECT_NE(s.find("3 of 3 files Release lists do not match"), std::string::npos) << s;
  EXPECT_NE(s.find("size_mismatch"), std::string::npos) << s;
  EXPECT_NE(s.find(", ..."), std::string::npos) << s;
  EXPECT_NE(s.find("nothing was signed"), std::string::npos) << s;
  EXPECT_EQ(s.find('\n'), std::string::npos);
  EXPECT_STREQ(listed_status_name(ListedStatus::hash_mismatch), "hash_mismatch");
}

TEST_F(ListedFiles, NothingOutsideTheRootOrIrregularIsRead) {
  const fs::path main = root() / "dists/bookworm/main";
  fs::create_symlink(fs::path("..") / ".." / ".." / ".." / "outside", main / "escape");
  fs::create_symlink(dir_ / "outside", main / "absolute");
  ASSERT_EQ(::mkfifo((main / "fifo").c_str(), 0644), 0);
  fs::create_directory(main / "folder");
  ListedReport r = check({listed("main/escape", packages_), listed("main/absolute", packages_),
                          listed("main/fifo", ""), listed("main/folder", "")});
  ASSERT_EQ(r.files.size(), 4u);
  for (const ListedResult& f : r.files) EXPECT_EQ(f.status, ListedStatus::missing) << f.path;
  EXPECT_NE(r.files[0].detail.find("escapes"), std::string::npos) << r.files[0].detail;
  EXPECT_NE(r.files[2].detail.find("FIFO"), std::string::npos) << r.files[2].detail;
  EXPECT_NE(r.files[3].detail.find("directory"), std::string::npos) << r.files[3].detail;
  // A link that stays inside the tree is fine (by-hash trees, mirrored suites).
  fs::create_symlink("binary-all/Packages", main / "inside");
  EXPECT_TRUE(check({listed("main/inside", packages_)}).ok());
}

TEST_F(ListedFiles, VerifiesATargetByItsFormat) {
  Config c = parse_config("[keys.k]\nuri = \"pkcs11:object=k\"\ncertificate = \"k.asc\"\n"
                          "[repositories.debian]\nroot = \"" + root().string() +
                              "\"\npath = \"dists/{suite}/Release\"\nsuite = [\"bookworm\"]\nverify_listed_files = true\n"
                              "[repositories.el]\nroot = \"" + root().string() +
                              "\"\npath = \"{release}/repodata/repomd.xml\"\nrelease = [\"el9\"]\n",
                          "/etc/catsign/catsign.toml");
  catalog::Root r(root(), "repository");
  const std::string release = "SHA256:\n " + sha256(packages_) + " " + std::to_string(packages_.size()) +
                              " main/binary-all/Packages\n";
  EXPECT_TRUE(verify_listed_files(parse_target("debian:bookworm", c), r, release).ok());
  EXPECT_THROW(verify_listed_files(parse_target("debian:bookworm", c), r, "Suite: x\n"), Error);

  fs::create_directories(root() / "el9/repodata");
  write_text(root() / "el9/repodata/p.xml.gz", packages_);
  const std::string repomd = "<repomd xmlns=\"http://linux.duke.edu/metadata/repo\"><data type=\"primary\">"
                             "<checksum type=\"sha256\">" + sha256(packages_) +
                             "</checksum><location href=\"repodata/p.xml.gz\"/><size>" +
                             std::to_string(packages_.size()) + "</size></data></repomd>";
  ListedReport ok = verify_listed_files(parse_target("el:el9", c), r, repomd);
  EXPECT_TRUE(ok.ok()) << ok.summary();
  EXPECT_EQ(ok.index, "repomd.xml");
  write_text(root() / "el9/repodata/p.xml.gz", packages_ + "changed");
  EXPECT_EQ(verify_listed_files(parse_target("el:el9", c), r, repomd).files.at(0).status, ListedStatus::size_mismatch);
}

}  // namespace
}  // namespace catsign::repository
