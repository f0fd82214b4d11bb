// SPDX-License-Identifier: Apache-2.0
#include "catsign/catalog/tuple.hpp"

#include <gtest/gtest.h>

#include "catsign/error.hpp"

namespace catsign::catalog {
namespace {

CatalogsConfig config() {
  CatalogsConfig c;
  c.releases = {"unstable", "testing", "bratislava", "dublin", "kiel", "munich"};
  c.arches = {"sparc", "i386"};
  c.osrels = {"5.8", "5.9", "5.10", "5.11"};
  return c;
}

// Parses `text` expecting Error(code) whose message contains every one of `needles`.
void expect_error(std::string_view text, Errc code, std::initializer_list<std::string> needles,
                  const CatalogsConfig& c = config()) {
  SCOPED_TRACE(std::string(text.substr(0, 80)));
  try {
    parse_tuple(text, c);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line";
    EXPECT_LT(msg.size(), 400u) << "bounded";
  }
}

TEST(TupleParse, ExactMatchRoundTrips) {
  Tuple t = parse_tuple("unstable/i386/5.10", config());
  EXPECT_EQ(t.release, "unstable");
  EXPECT_EQ(t.arch, "i386");
  EXPECT_EQ(t.osrel, "5.10");
  EXPECT_EQ(t.str(), "unstable/i386/5.10");
  EXPECT_EQ(t.catalog_path(), "unstable/i386/5.10/catalog");
  EXPECT_EQ(parse_tuple(t.str(), config()), t);
  EXPECT_EQ(parse_tuple("munich/sparc/5.8", config()).str(), "munich/sparc/5.8");
}

TEST(TupleParse, EveryConfiguredCombinationParses) {
  auto c = config();
  for (const auto& r : c.releases)
    for (const auto& a : c.arches)
      for (const auto& o : c.osrels) {
        std::string s = r + "/" + a + "/" + o;
        EXPECT_EQ(parse_tuple(s, c).str(), s);
      }
}

TEST(TupleParse, CaseSensitive) {
  expect_error("Unstable/i386/5.10", Errc::refused, {"unknown release", "'Unstable'"});
  expect_error("unstable/I386/5.10", Errc::refused, {"unknown arch", "'I386'"});
}

TEST(TupleParse, WrongNumberOfParts) {
  expect_error("a/b", Errc::malformed, {"2 parts", "release/arch/osrel"});
  expect_error("unstable", Errc::malformed, {"1 part"});
  expect_error("a/b/c/d", Errc::malformed, {"4 parts"});
  expect_error("unstable/i386/5.10/catalog", Errc::malformed, {"4 parts"});
}

TEST(TupleParse, EmptyPartsAndSlashes) {
  expect_error("", Errc::malformed, {"empty"});
  expect_error("unstable/i386/5.10/", Errc::malformed, {"empty part"});
  expect_error("/unstable/i386/5.10", Errc::malformed, {"empty part"});
  expect_error("unstable//i386/5.10", Errc::malformed, {"empty part"});
  expect_error("unstable/i386/", Errc::malformed, {"empty part"});
}

TEST(TupleParse, DotAndDotDot) {
  expect_error("./unstable", Errc::malformed, {"'.' is not allowed"});
  expect_error("./unstable/i386/5.10", Errc::malformed, {"'.' is not allowed"});
  expect_error("..", Errc::malformed, {"'..' is not allowed"});
  expect_error("../i386/5.10", Errc::malformed, {"'..' is not allowed"});
  expect_error("unstable/../5.10", Errc::malformed, {"'..' is not allowed"});
  // Dots inside a part are fine syntactically ("5.10"), but must still be configured.
  expect_error("un.stable/i386/5.10", Errc::refused, {"unknown release"});
}

TEST(TupleParse, CharactersOutsideTheSetAreNamed) {
  expect_error("unstable/i386/5.10 ", Errc::malformed, {"character ' '", "not allowed"});
  expect_error(" unstable/i386/5.10", Errc::malformed, {"character ' '"});
  expect_error("unstable/i386/5.10\n", Errc::malformed, {"\\x0a"});
  expect_error(std::string_view("unstable\0/i386/5.10", 19), Errc::malformed, {"\\x00"});
  expect_error("unstable\\i386\\5.10", Errc::malformed, {"\\x5c"});
  // "unstàble": UTF-8 bytes are escaped, never echoed raw.
  expect_error("unst\xc3\xa0" "ble/i386/5.10", Errc::malformed, {"\\xc3"});
  expect_error("unstable/i386/5.10;rm", Errc::malformed, {"';'"});
}

TEST(TupleParse, LongInputIsRefusedWithoutEchoingIt) {
  std::string big(70 * 1024, 'a');
  expect_error(big, Errc::malformed, {"71680 characters", "at most 64"});
  std::string just_over = "unstable/i386/" + std::string(51, '5');
  ASSERT_EQ(just_over.size(), 65u);
  expect_error(just_over, Errc::malformed, {"at most 64"});
}

TEST(TupleParse, UnknownPartsAreNamedWithTheConfiguredValues) {
  expect_error("stable/i386/5.10", Errc::refused,
               {"unknown release 'stable'", "unstable, testing, bratislava"});
  expect_error("unstable/amd64/5.10", Errc::refused, {"unknown arch 'amd64'", "sparc, i386"});
  expect_error("unstable/i386/5.12", Errc::refused,
               {"unknown osrel '5.12'", "5.8, 5.9, 5.10, 5.11"});
  // Prefixes and near misses do not match.
  expect_error("unstable/i386/5.1", Errc::refused, {"unknown osrel '5.1'"});
  expect_error("unstabl/i386/5.10", Errc::refused, {"unknown release"});
}

TEST(TupleParse, EmptyConfigRefusesEverything) {
  CatalogsConfig c = config();
  c.arches.clear();
  expect_error("unstable/i386/5.10", Errc::refused, {"no arches are configured"}, c);
}

TEST(TupleParse, OddConfiguredValuesCannotBeReached) {
  // A config value that is not a valid part (a config mistake) never matches: syntax is
  // checked first.
  CatalogsConfig c = config();
  c.releases.push_back("..");
  c.releases.push_back("a b");
  expect_error("../i386/5.10", Errc::malformed, {"'..'"}, c);
  expect_error("a b/i386/5.10", Errc::malformed, {"character ' '"}, c);
}

}  // namespace
}  // namespace catsign::catalog
