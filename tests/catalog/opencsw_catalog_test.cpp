// SPDX-License-Identifier: Apache-2.0
#include "catsign/catalog/opencsw_catalog.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "../openpgp/gpg_vectors.hpp"
#include "../support/process.hpp"
#include "catsign/error.hpp"

namespace catsign::catalog {
namespace {

using catsign::testing::GpgVectors;
using catsign::testing::read_text;

const std::string kMd5 = "3a483f192e2e9d788e922895ef1261e9";

std::string line9(const std::string& name, const std::string& md5 = kMd5, const std::string& size = "15613",
                  const std::string& deps = "CSWcommon", const std::string& file = "") {
  const std::string f = file.empty() ? name + "-1.0,REV=2014.03.16-SunOS5.10-sparc-CSW.pkg.gz" : file;
  return name + " 1.0,REV=2014.03.16 CSW" + name + " " + f + " " + md5 + " " + size + " " + deps +
         " utils none\n";
}

// The message of the Error(malformed) the text raises, or a failure.
std::string error_of(const std::string& text) {
  try {
    parse_opencsw_catalog(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::malformed) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted:\n" << text;
  return {};
}

TEST(OpenCswCatalog, ReadsTheRealCatalog) {
  const std::string text = read_text(std::string(CATSIGN_SOURCE_DIR) + "/tests/data/opencsw/example-catalog.txt");
  const auto start = std::chrono::steady_clock::now();
  const OpenCswCatalog c = parse_opencsw_catalog(text);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(c.entries.size(), 2146u);
  EXPECT_TRUE(c.headers.empty());
  EXPECT_LT(took, std::chrono::seconds(1));

  const CatalogEntry& first = c.entries.front();
  EXPECT_EQ(first.line, 1u);
  EXPECT_EQ(first.catalogname, "9menu");
  EXPECT_EQ(first.version, "1.8,REV=2006.05.19");
  EXPECT_EQ(first.pkgname, "CSW9menu");
  EXPECT_EQ(first.file, "9menu-1.8,REV=2006.05.19-SunOS5.8-sparc-CSW.pkg.gz");
  EXPECT_EQ(first.md5, "3a483f192e2e9d788e922895ef1261e9");
  EXPECT_EQ(first.size, 15613u);
  EXPECT_EQ(first.depends, std::vector<std::string>{"CSWcommon"});
  EXPECT_EQ(first.category, "none");
  EXPECT_FALSE(first.nine_fields);
  EXPECT_TRUE(first.i_depends.empty());

  const CatalogEntry& second = c.entries[1];
  EXPECT_EQ(second.depends, (std::vector<std::string>{"CSWcommon", "CSWtexinfo"}));
  EXPECT_EQ(second.size, 1371107u);
  EXPECT_EQ(c.entries.back().line, 2146u);
  EXPECT_EQ(c.entries.back().catalogname, "zsh");
}

TEST(OpenCswCatalog, NineFieldsAndHeadersKept) {
  const std::string text = "# CREATIONDATE 2014-03-16T08:39:58Z\n# RELEASE kiel\n#   OTHER  spaced value\n" +
                           line9("bash") + "coreutils 8.21 CSWcoreutils coreutils-8.21-SunOS5.10-sparc-CSW.pkg.gz "
                           "0123456789ABCDEF0123456789abcdef 0 none gnu|utils CSWbash|CSWcommon\n";
  const OpenCswCatalog c = parse_opencsw_catalog(text);
  ASSERT_EQ(c.headers.size(), 3u);
  EXPECT_EQ(c.header("CREATIONDATE"), "2014-03-16T08:39:58Z");
  EXPECT_EQ(c.header("RELEASE"), "kiel");
  EXPECT_EQ(c.header("OTHER"), "spaced value");
  EXPECT_EQ(c.header("ABSENT"), "");
  ASSERT_EQ(c.entries.size(), 2u);
  EXPECT_EQ(c.entries[0].line, 4u);
  EXPECT_TRUE(c.entries[0].nine_fields);
  EXPECT_EQ(c.entries[0].category, "utils");
  const CatalogEntry& cu = c.entries[1];
  EXPECT_EQ(cu.md5, "0123456789abcdef0123456789abcdef");  // stored lowercase
  EXPECT_EQ(cu.size, 0u);
  EXPECT_TRUE(cu.depends.empty());
  EXPECT_EQ(cu.category, "gnu|utils");
  EXPECT_EQ(cu.i_depends, (std::vector<std::string>{"CSWbash", "CSWcommon"}));
  // No final LF is fine.
  EXPECT_EQ(parse_opencsw_catalog(line9("a").substr(0, line9("a").size() - 1)).entries.size(), 1u);
  EXPECT_TRUE(parse_opencsw_catalog("").entries.empty());
}

struct Bad {
  const char* name;
  std::string text;
  std::string expected;  // a part of the message
};

TEST(OpenCswCatalog, RefusesMalformedLinesNamingLineAndField) {
  const std::string ok = line9("aaa");
  const std::vector<Bad> cases = {
      {"too few fields", ok + "bash 1.0 CSWbash bash.pkg.gz " + kMd5 + " 12 none\n", "catalog line 2: 7 fields"},
      {"too many fields", ok + "bash 1.0 CSWbash bash.pkg.gz " + kMd5 + " 12 none none none extra\n",
       "catalog line 2: more than 9 fields"},
      {"mixed 8 and 9", ok + "bash 1.0 CSWbash bash.pkg.gz " + kMd5 + " 12 none none\n",
       "catalog line 2: 8 fields, but line 1 has 9"},
      {"double space", ok + "bash 1.0  CSWbash bash.pkg.gz " + kMd5 + " 12 none none none\n",
       "catalog line 2, field 3 (pkgname)"},
      {"md5 short", ok + line9("bash", "3a483f192e2e9d788e922895ef1261e"), "catalog line 2, field 5 (md5)"},
      {"md5 not hex", ok + line9("bash", "3a483f192e2e9d788e922895ef1261eg"), "catalog line 2, field 5 (md5): '3a483f192e2e9d788e922895ef1261eg' is not 32 hex digits"},
      {"size word", ok + line9("bash", kMd5, "big"), "catalog line 2, field 6 (size): 'big'"},
      {"size negative", ok + line9("bash", kMd5, "-1"), "catalog line 2, field 6 (size): '-1'"},
      {"size plus", ok + line9("bash", kMd5, "+1"), "catalog line 2, field 6 (size)"},
      {"size overflow", ok + line9("bash", kMd5, "18446744073709551616"), "field 6 (size): '18446744073709551616' is too large"},
      {"size huge", ok + line9("bash", kMd5, std::string(40, '9')), "field 6 (size)"},
      {"duplicate catalogname", ok + line9("bash") + "bash 2.0 CSWbash2 bash2.pkg.gz " + kMd5 + " 1 none none none\n",
       "catalog line 3, field 1 (catalogname): 'bash' is already on line 2"},
      {"duplicate pkgname", ok + line9("bash") + "bash2 2.0 CSWbash bash2.pkg.gz " + kMd5 + " 1 none none none\n",
       "catalog line 3, field 3 (pkgname): 'CSWbash' is already on line 2"},
      {"empty dependency", ok + line9("bash", kMd5, "1", "CSWa||CSWb"), "catalog line 2, field 7 (dependencies): 'CSWa||CSWb'"},
      {"trailing bar", ok + line9("bash", kMd5, "1", "CSWa|"), "field 7 (dependencies)"},
      {"none in a list", ok + line9("bash", kMd5, "1", "none|CSWa"), "field 7 (dependencies): 'none|CSWa' mixes"},
      {"bad i-depends", ok + "bash 1.0 CSWbash bash.pkg.gz " + kMd5 + " 1 none none CSWa||CSWb\n",
       "catalog line 2, field 9 (i-dependencies)"},
      {"slash in file", ok + line9("bash", kMd5, "1", "none", "../../etc/passwd"), "catalog line 2, field 4 (file): '../../etc/passwd' contains '/'"},
      {"dotdot file", ok + line9("bash", kMd5, "1", "none", ".."), "catalog line 2, field 4 (file): '..'"},
      {"dotdot inside file", ok + line9("bash", kMd5, "1", "none", "a..b.pkg.gz"), "field 4 (file)"},
      {"empty line", ok + "\n" + line9("bash"), "catalog line 2: is empty"},
      {"trailing empty line", ok + "\n", "catalog line 2: is empty"},
      {"CR LF", ok + line9("bash").insert(line9("bash").size() - 1, "\r"), "catalog line 2: ends in CR"},
      {"tab", ok + "bash\t1.0 CSWbash bash.pkg.gz " + kMd5 + " 1 none none none\n", "catalog line 2: holds the byte '\\x09'"},
      {"NUL", ok + std::string("bash 1.0 CSW\0bash bash.pkg.gz ", 29) + kMd5 + " 1 none none none\n", "catalog line 2: holds the byte '\\x00'"},
      {"UTF-8", ok + "b\xc3\xa4sh 1.0 CSWbash bash.pkg.gz " + kMd5 + " 1 none none none\n", "catalog line 2: holds the byte"},
  };
  for (const Bad& c : cases) {
    const std::string message = error_of(c.text);
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.name << ": " << message;
  }
}

TEST(OpenCswCatalog, ErrorsAreOneLine) {
  const std::string message = error_of(line9("a") + "x\ny\n");
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(OpenCswCatalog, ReadsACleartextSignedCatalogThroughItsFraming) {
  const std::string catalog = "# CREATIONDATE 2014-03-16T08:39:58Z\n" + line9("bash") + line9("-dash") + line9("zsh");
  GpgVectors& gpg = GpgVectors::get();
  const std::string signed_text =
      gpg.sign("catalog.signed", {"--digest-algo", "SHA256", "--clearsign"}, gpg.write("catalog.txt", catalog));
  ASSERT_EQ(signed_text.rfind("-----BEGIN PGP SIGNED MESSAGE-----\n", 0), 0u);
  const OpenCswCatalog c = parse_opencsw_catalog(signed_text);
  EXPECT_EQ(c.header("CREATIONDATE"), "2014-03-16T08:39:58Z");
  ASSERT_EQ(c.entries.size(), 3u);
  EXPECT_EQ(c.entries[1].catalogname, "-dash");  // dash-escaping undone
  EXPECT_EQ(c.entries[2].catalogname, "zsh");
  // Line numbers are the file's: BEGIN, Hash:, blank, then the header on line 4.
  EXPECT_EQ(c.entries[0].line, 5u);

  // A malformed catalog inside the framing is named by the file's line.
  const std::string bad = gpg.sign("bad.signed", {"--digest-algo", "SHA256", "--clearsign"},
                                   gpg.write("bad.txt", line9("bash") + line9("bash")));
  EXPECT_NE(error_of(bad).find("catalog line 5, field 1 (catalogname): 'bash' is already on line 4"), std::string::npos)
      << error_of(bad);

  // Broken framing is refused, not read as catalog lines.
  std::string truncated = signed_text.substr(0, signed_text.find("-----BEGIN PGP SIGNATURE-----"));
  EXPECT_THROW(parse_opencsw_catalog(truncated), Error);
}

}  // namespace
}  // namespace catsign::catalog
