#include "catsign/config.hpp"

#include <gtest/gtest.h>

#include "catsign/error.hpp"

namespace catsign {
namespace {

const char* kFull = R"(
[token]
module = "/usr/lib/softhsm/libsofthsm2.so"
sessions = 2

[keys.catalog]
uri = "pkcs11:token=catsign;object=catalog-2026"
certificate = "catalog-2026.asc"
revocation = "/etc/catsign/catalog-2026.rev.asc"

[keys.package]
uri = "pkcs11:token=catsign;object=packages-2026"
certificate = "/etc/catsign/packages-2026.asc"

[daemon]
socket = "/run/catsign/sign.sock"
sign_uids = [1001]
admin_uids = [0, 1000]
unlock_window = "7d"
warn_before = "24h"

[catalogs]
root = "/srv/opencsw/mirror"
releases = ["unstable", "dublin"]
arches = ["sparc", "i386"]
osrels = ["5.10", "5.11"]
key = "catalog"
resign_form = "detached"

[packages]
root = "/srv/opencsw/mirror/allpkgs"
key = "package"

[spool]
dir = "/var/spool/catsign"

[audit]
log = "/var/lib/catsign/audit.jsonl"
)";

std::string error_of(std::string_view text) {
  try {
    parse_config(text, "/etc/catsign/catsign.toml");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::usage);
    return e.what();
  }
  return "";
}

TEST(Config, ReadsEverySection) {
  Config c = parse_config(kFull, "/etc/catsign/catsign.toml");
  EXPECT_EQ(c.token.sessions, 2u);
  ASSERT_EQ(c.keys.size(), 2u);
  // Relative paths are taken from the config file's folder.
  EXPECT_EQ(c.keys.at("catalog").certificate, "/etc/catsign/catalog-2026.asc");
  EXPECT_EQ(c.daemon.unlock_window, std::chrono::hours(24 * 7));
  EXPECT_EQ(c.daemon.warn_before, std::chrono::hours(24));
  EXPECT_EQ(c.daemon.admin_uids, (std::vector<uid_t>{0, 1000}));
  EXPECT_EQ(c.catalogs.releases, (std::vector<std::string>{"unstable", "dublin"}));
  EXPECT_EQ(c.catalogs.resign_form, "detached");
  EXPECT_EQ(c.spool_dir, "/var/spool/catsign");
  EXPECT_EQ(c.audit_log, "/var/lib/catsign/audit.jsonl");
}

TEST(Config, KeySelection) {
  Config c = parse_config(kFull, "/etc/catsign/catsign.toml");
  EXPECT_EQ(c.key(std::nullopt).name, "catalog");  // [catalogs] key
  EXPECT_EQ(c.key("package").name, "package");
  EXPECT_THROW(c.key("nope"), Error);
  Config two = parse_config(R"(
[keys.a]
uri = "pkcs11:object=a"
certificate = "a.asc"
[keys.b]
uri = "pkcs11:object=b"
certificate = "b.asc"
)", "/x/c.toml");
  try {
    two.key(std::nullopt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--key"), std::string::npos);
  }
}

TEST(Config, RefusesUnknownSettingsWithTheLine) {
  std::string e = error_of("[daemon]\nunlock_windw = \"7d\"\n");
  EXPECT_NE(e.find("catsign.toml:2"), std::string::npos) << e;
  EXPECT_NE(e.find("unlock_windw"), std::string::npos) << e;
  EXPECT_NE(error_of("[deamon]\n").find("deamon"), std::string::npos);
}

TEST(Config, RefusesWrongTypesAndValues) {
  EXPECT_NE(error_of("[token]\nsessions = \"two\"\n").find("sessions"), std::string::npos);
  EXPECT_NE(error_of("[token]\nsessions = 0\n").find("sessions"), std::string::npos);
  EXPECT_NE(error_of("[daemon]\nunlock_window = \"7 days\"\n").find("not a duration"), std::string::npos);
  EXPECT_NE(error_of("[daemon]\nsign_uids = [-1]\n").find("sign_uids"), std::string::npos);
  EXPECT_NE(error_of("[catalogs]\nresign_form = \"both\"\n").find("resign_form"), std::string::npos);
  EXPECT_NE(error_of("[catalogs]\nkey = \"missing\"\n").find("missing"), std::string::npos);
  EXPECT_NE(error_of("[keys.k]\ncertificate = \"k.asc\"\n").find("uri"), std::string::npos);
  EXPECT_NE(error_of("[keys.k]\nuri = \"pkcs11:object=k\"\n").find("certificate"), std::string::npos);
  EXPECT_NE(error_of("token = 1\n").find("section"), std::string::npos);
}

TEST(Config, SyntaxErrorsNameTheLine) {
  std::string e = error_of("[token]\nmodule = \"unterminated\n");
  EXPECT_NE(e.find("catsign.toml:2"), std::string::npos) << e;
}

TEST(Config, MissingFileSaysHowToGiveOne) {
  try {
    load_config("/nonexistent/catsign.toml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::usage);
    EXPECT_NE(std::string(e.what()).find("--config"), std::string::npos);
  }
}

}  // namespace
}  // namespace catsign
