// SPDX-License-Identifier: Apache-2.0
// [repositories.NAME] sections: what they read, and every way a section is refused.
#include <gtest/gtest.h>

#include "catsign/config.hpp"
#include "catsign/error.hpp"

namespace catsign {
namespace {

const std::string kKeys = R"(
[keys.catalog]
uri = "pkcs11:token=catsign;object=catalog"
certificate = "catalog.asc"
[keys.apt]
uri = "pkcs11:token=catsign;object=apt"
certificate = "apt.asc"
[catalogs]
key = "catalog"
)";

Config parse(const std::string& repositories) { return parse_config(kKeys + repositories, "/etc/catsign/catsign.toml"); }

// The one-line usage error a section gets; "" when it is accepted.
std::string error_of(const std::string& repositories) {
  try {
    parse(repositories);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::usage) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  return "";
}

TEST(RepositoryConfig, ReadsTheThreeFormats) {
  Config c = parse(R"(
[repositories.debian]
root = "/srv/apt"
path = "dists/{suite}/Release"
suite = ["bookworm", "trixie"]
key = "apt"
verify_listed_files = true

[repositories.el]
root = "rpm"
path = "{release}/{arch}/repodata/repomd.xml"
arch = ["x86_64", "aarch64"]
release = ["el9"]
max_size = 1048576

[repositories.arch]
root = "/srv/pacman"
path = "{repo}/os/{arch}/{repo}.db"
repo = ["core", "extra"]
arch = ["x86_64"]
)");
  ASSERT_EQ(c.repositories.size(), 3u);
  const RepositoryConfig& d = c.repositories.at("debian");
  EXPECT_EQ(d.format, RepositoryFormat::apt);
  EXPECT_EQ(d.root, "/srv/apt");
  EXPECT_EQ(d.parts, (std::vector<std::string>{"suite"}));
  EXPECT_EQ(d.values.at("suite"), (std::vector<std::string>{"bookworm", "trixie"}));
  EXPECT_TRUE(d.verify_listed_files);
  ASSERT_EQ(c.repository_keys(d).size(), 1u);
  EXPECT_EQ(c.repository_keys(d).front()->name, "apt");

  const RepositoryConfig& el = c.repositories.at("el");
  EXPECT_EQ(el.format, RepositoryFormat::rpm);
  EXPECT_EQ(el.root, "/etc/catsign/rpm");  // relative to the config's folder
  // In the order the template names them, not the order of the settings.
  EXPECT_EQ(el.parts, (std::vector<std::string>{"release", "arch"}));
  EXPECT_FALSE(el.verify_listed_files);
  EXPECT_EQ(el.max_size, 1048576u);
  ASSERT_EQ(c.repository_keys(el).size(), 1u);
  EXPECT_EQ(c.repository_keys(el).front()->name, "catalog");  // [catalogs] key

  const RepositoryConfig& a = c.repositories.at("arch");
  EXPECT_EQ(a.format, RepositoryFormat::pacman);
  EXPECT_EQ(a.parts, (std::vector<std::string>{"repo", "arch"}));  // {repo} twice, listed once
  EXPECT_STREQ(repository_format_name(a.format), "pacman");
}

TEST(RepositoryConfig, RefusesMissingAndUnknownSettings) {
  EXPECT_NE(error_of("[repositories.d]\npath = \"dists/{suite}/Release\"\nsuite = [\"a\"]\n").find("needs root"),
            std::string::npos);
  EXPECT_NE(error_of("[repositories.d]\nroot = \"/srv\"\nsuite = [\"a\"]\n").find("needs path"), std::string::npos);
  std::string e = error_of("[repositories.d]\nroot = \"/srv\"\npath = \"dists/{suite}/Release\"\n");
  EXPECT_NE(e.find("needs suite"), std::string::npos) << e;
  e = error_of("[repositories.d]\nroot = \"/srv\"\npath = \"dists/{suite}/Release\"\nsuite = [\"a\"]\n"
               "verify_listed_file = true\n");
  EXPECT_NE(e.find("unknown setting 'verify_listed_file'"), std::string::npos) << e;
  EXPECT_NE(e.find("catsign.toml:"), std::string::npos) << e;  // names the line
  // A list for a part the template does not name is a typo too.
  e = error_of("[repositories.d]\nroot = \"/srv\"\npath = \"dists/{suite}/Release\"\nsuite = [\"a\"]\n"
               "suites = [\"b\"]\n");
  EXPECT_NE(e.find("'suites'"), std::string::npos) << e;
  e = error_of("[repositories.d]\nroot = \"/srv\"\npath = \"dists/{suite}/Release\"\nsuite = [\"a\"]\nkey = \"gone\"\n");
  EXPECT_NE(e.find("names no [keys.gone]"), std::string::npos) << e;
  EXPECT_NE(error_of("[repositories]\nd = 1\n").find("must be a section"), std::string::npos);
  try {
    parse_config("repositories = 1\n", "/etc/catsign/catsign.toml");
    ADD_FAILURE() << "accepted";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("must be a section"), std::string::npos) << err.what();
  }
}

TEST(RepositoryConfig, RefusesBadValues) {
  const std::string head = "[repositories.d]\nroot = \"/srv\"\npath = \"dists/{suite}/Release\"\n";
  EXPECT_NE(error_of(head + "suite = []\n").find("is empty"), std::string::npos);
  EXPECT_NE(error_of(head + "suite = \"bookworm\"\n").find("list of quoted strings"), std::string::npos);
  EXPECT_NE(error_of(head + "suite = [1]\n").find("list of quoted strings"), std::string::npos);
  for (const char* v : {"..", ".", "", "a/b", "a b", "a:b", "\u00e4"}) {
    std::string e = error_of(head + "suite = [\"" + v + "\"]\n");
    EXPECT_NE(e.find("must be 1 to 64 characters"), std::string::npos) << v << ": " << e;
  }
  EXPECT_NE(error_of(head + "suite = [\"" + std::string(65, 'a') + "\"]\n").find("1 to 64"), std::string::npos);
  EXPECT_NE(error_of(head + "suite = [\"a\"]\nverify_listed_files = \"yes\"\n").find("true or false"), std::string::npos);
  EXPECT_NE(error_of(head + "suite = [\"a\"]\nmax_size = 0\n").find("max_size"), std::string::npos);
}

TEST(RepositoryConfig, RefusesBadNames) {
  for (const char* name : {"\"a:b\"", "\"a/b\"", "\"..\"", "\"\"", "\"" "abcdefghijklmnopqrstuvwxyz0123456789" "\""}) {
    std::string e = error_of(std::string("[repositories.") + name +
                             "]\nroot = \"/srv\"\npath = \"dists/{suite}/Release\"\nsuite = [\"a\"]\n");
    EXPECT_NE(e.find("repository name"), std::string::npos) << name << ": " << e;
  }
}

TEST(RepositoryConfig, RefusesBadTemplates) {
  auto with_path = [](const std::string& path) {
    return error_of("[repositories.d]\nroot = \"/srv\"\npath = \"" + path + "\"\nsuite = [\"a\"]\n");
  };
  const std::pair<const char*, const char*> cases[] = {
      {"/dists/{suite}/Release", "relative"},
      {"dists/../{suite}/Release", "'..'"},
      {"dists/./{suite}/Release", "'.'"},
      {"dists//{suite}/Release", "empty component"},
      {"dists/{suite}/", "empty component"},
      {"dists/{suite/Release", "never closed"},
      {"dists/suite}/Release", "closes nothing"},
      {"dists/{}/Release", "names no part"},
      {"dists/{Suite}/Release", "lower case"},
      {"dists/{1suite}/Release", "lower case"},
      {"dists/bookworm/Release", "names no part"},
      {"dists/{suite}/Rel ease", "not allowed"},
      {"dists\\\\{suite}/Release", "not allowed"},
      {"dists/{suite}/Packages", "must name an apt Release"},
      {"dists/{suite}/InRelease", "must name an apt Release"},
      {"{suite}/repomd.xml", "must name"},
      {"{suite}/os/{suite}", "must name"},
      {"{suite}/.db", "must name"},
      {"", "needs path"},
  };
  for (const auto& [path, needle] : cases) {
    std::string e = with_path(path);
    EXPECT_NE(e.find(needle), std::string::npos) << path << ": " << e;
  }
  // A part may not borrow a setting's name: its values would collide with the setting.
  std::string e = error_of("[repositories.d]\nroot = \"/srv\"\npath = \"{root}/Release\"\n");
  EXPECT_NE(e.find("setting's name"), std::string::npos) << e;
}

TEST(RepositoryConfig, PacmanHasNoListedFilesCheck) {
  std::string e = error_of("[repositories.a]\nroot = \"/srv\"\npath = \"{repo}/os/x86_64/{repo}.db\"\nrepo = [\"core\"]\n"
                           "verify_listed_files = true\n");
  EXPECT_NE(e.find("pacman"), std::string::npos) << e;
  EXPECT_EQ(error_of("[repositories.a]\nroot = \"/srv\"\npath = \"{repo}/os/x86_64/{repo}.db\"\nrepo = [\"core\"]\n"
                     "verify_listed_files = false\n"),
            "");
}

}  // namespace
}  // namespace catsign
