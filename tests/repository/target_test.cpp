// SPDX-License-Identifier: Apache-2.0
// Repository request names ("debian:bookworm", "el:el9/x86_64") against the config, and the
// path templates behind them.
#include "catsign/repository/target.hpp"

#include <gtest/gtest.h>

#include "catsign/error.hpp"
#include "catsign/repository/path_template.hpp"

namespace catsign::repository {
namespace {

const Config& config() {
  static const Config c = parse_config(R"(
[keys.catalog]
uri = "pkcs11:object=catalog"
certificate = "catalog.asc"

[repositories.debian]
root = "/srv/apt"
path = "dists/{suite}/Release"
suite = ["bookworm", "trixie"]

[repositories.el]
root = "/srv/rpm"
path = "{release}/{arch}/repodata/repomd.xml"
release = ["el8", "el9"]
arch = ["x86_64", "aarch64"]

[repositories.arch]
root = "/srv/pacman"
path = "{repo}/os/{arch}/{repo}.db"
repo = ["core", "extra"]
arch = ["x86_64"]
)", "/etc/catsign/catsign.toml");
  return c;
}

void expect_error(std::string_view text, Errc code, std::initializer_list<std::string> needles) {
  SCOPED_TRACE(std::string(text.substr(0, 80)));
  try {
    parse_target(text, config());
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line";
    EXPECT_LT(msg.size(), 500u) << "bounded";
  }
}

TEST(RepositoryTarget, ResolvesEachFormat) {
  Target d = parse_target("debian:bookworm", config());
  EXPECT_EQ(d.repository->name, "debian");
  EXPECT_EQ(d.name, "debian:bookworm");
  EXPECT_EQ(d.path, "dists/bookworm/Release");
  EXPECT_EQ(d.listed_base, "dists/bookworm");

  Target el = parse_target("el:el9/x86_64", config());
  EXPECT_EQ(el.values, (std::vector<std::string>{"el9", "x86_64"}));
  EXPECT_EQ(el.path, "el9/x86_64/repodata/repomd.xml");
  EXPECT_EQ(el.listed_base, "el9/x86_64");  // hrefs are relative to the folder above repodata/

  Target a = parse_target("arch:core/x86_64", config());
  EXPECT_EQ(a.path, "core/os/x86_64/core.db");  // {repo} appears twice
  EXPECT_EQ(a.listed_base, "core/os/x86_64");
}

TEST(RepositoryTarget, TellsRepositoriesFromTuples) {
  EXPECT_TRUE(names_repository("debian:bookworm"));
  EXPECT_TRUE(names_repository(":"));
  EXPECT_FALSE(names_repository("unstable/i386/5.10"));
}

TEST(RepositoryTarget, RefusesWhatIsNotConfigured) {
  expect_error("ubuntu:jammy", Errc::refused, {"unknown repository 'ubuntu'", "arch, debian, el"});
  expect_error("debian:sid", Errc::refused, {"unknown suite 'sid'", "bookworm, trixie"});
  expect_error("debian:Bookworm", Errc::refused, {"unknown suite"});  // exact, case-sensitive
  expect_error("el:el9/i386", Errc::refused, {"unknown arch 'i386'", "x86_64, aarch64"});
  // The order is the template's: release first.
  expect_error("el:x86_64/el9", Errc::refused, {"unknown release 'x86_64'"});
  // {repo} is one part: its two places take the same value.
  expect_error("arch:core/core/x86_64", Errc::malformed, {"3 values", "arch:<repo>/<arch>"});
}

TEST(RepositoryTarget, RefusesMalformedNames) {
  expect_error("", Errc::malformed, {"empty"});
  expect_error("debian", Errc::malformed, {"no ':'"});
  expect_error(":bookworm", Errc::malformed, {"repository's name"});
  expect_error("debian:", Errc::malformed, {"no value"});
  expect_error("debian:bookworm/", Errc::malformed, {"empty value"});
  expect_error("debian:/bookworm", Errc::malformed, {"empty value"});
  expect_error("el:el9//x86_64", Errc::malformed, {"empty value"});
  expect_error("debian:..", Errc::malformed, {"not . or .."});
  expect_error("debian:.", Errc::malformed, {"not . or .."});
  expect_error("debian:book worm", Errc::malformed, {"'book worm'"});
  expect_error("debian:bookworm:x", Errc::malformed, {"value"});
  expect_error("debian:book\nworm", Errc::malformed, {"\\x0a"});
  expect_error(std::string("debian:book\0worm", 16), Errc::malformed, {"\\x00"});
  expect_error("deb/ian:bookworm", Errc::malformed, {"repository's name"});
  expect_error("debian:bookworm/trixie", Errc::malformed, {"2 values", "debian:<suite>"});
  expect_error("el:el9", Errc::malformed, {"1 value", "el:<release>/<arch>"});
  expect_error("debian:" + std::string(300, 'a'), Errc::malformed, {"at most 200"});
}

TEST(RepositoryTarget, EveryCombinationForResign) {
  std::vector<Target> all = all_targets(config().repositories.at("el"));
  std::vector<std::string> names;
  for (const Target& t : all) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"el:el8/x86_64", "el:el8/aarch64", "el:el9/x86_64", "el:el9/aarch64"}));
  EXPECT_EQ(all[3].path, "el9/aarch64/repodata/repomd.xml");
  for (const Target& t : all) EXPECT_EQ(parse_target(t.name, config()).path, t.path);
}

TEST(PathTemplate, PiecesAndParts) {
  PathTemplate p = parse_path_template("{repo}/os/{arch}/{repo}.db");
  EXPECT_EQ(p.parts, (std::vector<std::string>{"repo", "arch"}));
  ASSERT_EQ(p.pieces.size(), 6u);
  EXPECT_TRUE(p.pieces[0].is_part);
  EXPECT_EQ(p.pieces[1].text, "/os/");
  EXPECT_EQ(expand(p, {"core", "x86_64"}), "core/os/x86_64/core.db");
}

TEST(PathTemplate, ValuesAndNames) {
  EXPECT_TRUE(valid_part_value("bookworm-backports"));
  EXPECT_TRUE(valid_part_value("5.10"));
  EXPECT_TRUE(valid_part_value("..."));  // a name, not a step up
  for (const char* v : {"", ".", "..", "a/b", "a b", "a:b", "a\\b", "a{b}"}) EXPECT_FALSE(valid_part_value(v)) << v;
  EXPECT_FALSE(valid_part_value(std::string(65, 'a')));
  EXPECT_TRUE(valid_repository_name("debian"));
  EXPECT_FALSE(valid_repository_name(std::string(33, 'a')));
}

}  // namespace
}  // namespace catsign::repository
