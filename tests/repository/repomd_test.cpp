// SPDX-License-Identifier: Apache-2.0
// rpm repomd.xml: a real createrepo_c file, and every way one is refused (with expat's own
// well-formedness errors among them) before anything on disk is looked at.
#include "catsign/repository/repomd.hpp"

#include <gtest/gtest.h>

#include "../support/process.hpp"
#include "catsign/error.hpp"

namespace catsign::repository {
namespace {

const std::string kSha = "70792e74ad9853c945495f47b35f06202448a0f8286ce01ddea45cdf6dcbb466";
const std::string kHead =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n";

std::string data(const std::string& inner, const std::string& type = "primary") {
  return "<data type=\"" + type + "\">" + inner + "</data>\n";
}
std::string entry(const std::string& href = "repodata/p.xml.gz", const std::string& size = "547",
                  const std::string& checksum = "<checksum type=\"sha256\">" + kSha + "</checksum>") {
  return checksum + "<location href=\"" + href + "\"/><size>" + size + "</size>";
}
std::string repomd(const std::string& body) { return kHead + "<revision>1</revision>\n" + body + "</repomd>\n"; }

void expect_malformed(const std::string& text, std::initializer_list<std::string> needles) {
  SCOPED_TRACE(text.substr(0, 300));
  try {
    parse_repomd(text);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::malformed) << e.what();
    std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line";
    EXPECT_LT(msg.size(), 400u);
  }
}

TEST(Repomd, ReadsCreaterepo_cOutput) {
  std::vector<ListedFile> files =
      parse_repomd(testing::read_text(std::string(CATSIGN_SOURCE_DIR) + "/tests/data/repository/repomd.xml"));
  ASSERT_EQ(files.size(), 6u);  // primary, filelists, other and their sqlite forms
  EXPECT_EQ(files[0].path, "repodata/" + kSha + "-primary.xml.gz");
  EXPECT_EQ(files[0].size, 547u);
  EXPECT_EQ(files[0].hash, "SHA-256");
  EXPECT_EQ(to_hex(files[0].digest), kSha);  // <checksum>, not <open-checksum>
  EXPECT_EQ(files[0].line, 4u);
  EXPECT_EQ(files[5].size, 684u);  // <size>, not <open-size>
}

TEST(Repomd, AcceptsOtherStrongHashesAndLayouts) {
  const std::string sha512(128, 'a');
  auto files = parse_repomd(repomd(data(entry("repodata/x.gz", " 7 ", "<checksum type=\"sha512\">" + sha512 + "</checksum>")) +
                                   data("<size>1</size><location href=\"b\"/><checksum type=\"sha256\">\n" + kSha +
                                        "\n</checksum><timestamp>5</timestamp><unknown><size>9</size></unknown>") +
                                   "<tags><content>x</content></tags>\n"));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].hash, "SHA-512");
  EXPECT_EQ(files[0].size, 7u);
  EXPECT_EQ(files[1].path, "b");
  EXPECT_EQ(files[1].size, 1u);  // the nested <size> of an unknown element is not the data's
  // Another prefix for the same namespace is the same document.
  EXPECT_EQ(parse_repomd("<r:repomd xmlns:r=\"http://linux.duke.edu/metadata/repo\"><r:data type=\"p\">"
                         "<r:checksum type=\"sha256\">" + kSha + "</r:checksum><r:location href=\"a\"/>"
                         "<r:size>1</r:size></r:data></r:repomd>")
                .size(),
            1u);
}

TEST(Repomd, RefusesWhatIsNotWellFormed) {
  expect_malformed("", {"not well-formed", "no element found"});
  expect_malformed(kHead, {"not well-formed"});
  expect_malformed(repomd(data(entry())).substr(0, 200), {"not well-formed"});
  expect_malformed(repomd(data(entry() + "</size>")), {"not well-formed", "line 4"});
  expect_malformed(repomd(data(entry())) + "<repomd/>", {"not well-formed"});
  expect_malformed(repomd(data(entry("a&b"))), {"not well-formed"});
  expect_malformed("\xff\xfe" + repomd(data(entry())), {"not well-formed"});
}

TEST(Repomd, RefusesEveryDtd) {
  // The billion laughs and an external entity never get as far as a declaration.
  expect_malformed("<?xml version=\"1.0\"?><!DOCTYPE repomd [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>" +
                       repomd(data(entry("&b;"))).substr(kHead.find("<repomd")),
                   {"DOCTYPE"});
  expect_malformed("<!DOCTYPE repomd SYSTEM \"file:///etc/passwd\">" + repomd(data(entry())).substr(kHead.find("<repomd")),
                   {"DOCTYPE"});
  expect_malformed("<!DOCTYPE repomd>" + repomd(data(entry())).substr(kHead.find("<repomd")), {"DOCTYPE"});
}

TEST(Repomd, RefusesTheWrongDocument) {
  expect_malformed("<repomd><data type=\"p\">" + entry() + "</data></repomd>", {"root element", "namespace"});
  expect_malformed("<metadata xmlns=\"http://linux.duke.edu/metadata/common\"/>", {"root element", "metadata"});
  expect_malformed(repomd(""), {"lists no <data>"});
  expect_malformed(repomd("<revision>1</revision>"), {"lists no <data>"});
  std::string deep = kHead;
  for (int i = 0; i < 20; ++i) deep += "<a>";
  expect_malformed(deep, {"nested deeper than 16"});
}

TEST(Repomd, RefusesIncompleteOrDoubledEntries) {
  expect_malformed(repomd(data("<location href=\"a\"/><size>1</size>")), {"<data type='primary'> has no <checksum>"});
  expect_malformed(repomd(data("<checksum type=\"sha256\">" + kSha + "</checksum><size>1</size>")), {"no <location"});
  expect_malformed(repomd(data("<checksum type=\"sha256\">" + kSha + "</checksum><location href=\"a\"/>")), {"no <size>"});
  expect_malformed(repomd(data(entry() + "<size>2</size>")), {"second <size>"});
  expect_malformed(repomd(data(entry() + "<location href=\"b\"/>")), {"second <location>"});
  expect_malformed(repomd(data(entry() + "<checksum type=\"sha256\">" + kSha + "</checksum>")), {"second <checksum>"});
  expect_malformed(repomd(data(entry("a")) + data(entry("a"), "other")), {"a is listed twice"});
  expect_malformed(repomd(data("<checksum>" + kSha + "</checksum><location href=\"a\"/><size>1</size>")), {"no type="});
  expect_malformed(repomd(data("<checksum type=\"sha256\">" + kSha + "</checksum><location/><size>1</size>")),
                   {"no href="});
  expect_malformed(repomd("<data><size>1</size></data>"), {"<data type=(no type)> has no <checksum>"});
}

TEST(Repomd, RefusesWeakOrWrongChecksums) {
  for (const char* weak : {"sha", "sha1", "md5"}) {
    expect_malformed(repomd(data(entry("a", "1", std::string("<checksum type=\"") + weak + "\">" +
                                                        std::string(40, 'a') + "</checksum>"))),
                     {"too weak", "--checksum sha256"});
  }
  expect_malformed(repomd(data(entry("a", "1", "<checksum type=\"crc32\">abcd</checksum>"))), {"'crc32'"});
  expect_malformed(repomd(data(entry("a", "1", "<checksum type=\"sha256\">" + kSha.substr(2) + "</checksum>"))),
                   {"not 64 hex digits"});
  expect_malformed(repomd(data(entry("a", "1", "<checksum type=\"sha512\">" + kSha + "</checksum>"))),
                   {"not 128 hex digits"});
  expect_malformed(repomd(data(entry("a", "1", "<checksum type=\"sha256\">" + kSha.substr(1) + "z</checksum>"))),
                   {"not 64 hex digits"});
  expect_malformed(repomd(data(entry("a", "1", "<checksum type=\"sha256\">" + std::string(300, 'a') + "</checksum>"))),
                   {"longer than 256"});
}

TEST(Repomd, RefusesBadSizesAndPaths) {
  for (const char* size : {"", "-1", "1e3", "0x10", "99999999999999999999", "1 2"})
    expect_malformed(repomd(data(entry("a", size))), {"<size> is not a number of bytes"});
  for (const char* href : {"/etc/passwd", "../../x", "repodata/../../x", "repodata//x", "a b", "./a", "http:\\\\x"})
    expect_malformed(repomd(data(entry(href))), {"not a plain relative path"});
  expect_malformed(repomd(data("<checksum type=\"sha256\">" + kSha +
                               "</checksum><location xml:base=\"http://mirror.example.org/\" href=\"a\"/><size>1</size>")),
                   {"xml:base"});
}

}  // namespace
}  // namespace catsign::repository
