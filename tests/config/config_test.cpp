// SPDX-License-Identifier: Apache-2.0
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

const char* kTwoCatalogKeys = R"(
[keys.catalog-2026]
uri = "pkcs11:object=catalog-2026"
certificate = "catalog-2026.asc"
[keys.catalog-2027]
uri = "pkcs11:object=catalog-2027"
certificate = "catalog-2027.asc"
[keys.packages-2026]
uri = "pkcs11:object=packages-2026"
certificate = "packages-2026.asc"
)";

std::vector<std::string> names_of(const std::vector<const KeyConfig*>& keys) {
  std::vector<std::string> out;
  for (const KeyConfig* k : keys) out.push_back(k->name);
  return out;
}

TEST(Config, KeyListsForRotation) {
  Config c = parse_config(std::string(kTwoCatalogKeys) +
                              "[catalogs]\nkey = [\"catalog-2026\", \"catalog-2027\"]\n"
                              "[packages]\nkey = [\"packages-2026\"]\n",
                          "/etc/catsign/catsign.toml");
  EXPECT_EQ(c.catalogs.keys, (std::vector<std::string>{"catalog-2026", "catalog-2027"}));
  EXPECT_EQ(c.packages.keys, (std::vector<std::string>{"packages-2026"}));
  // The order is the configuration's: the signatures come out in it.
  EXPECT_EQ(names_of(c.signing_keys({}, c.catalogs.keys)), (std::vector<std::string>{"catalog-2026", "catalog-2027"}));
  EXPECT_EQ(names_of(c.signing_keys({"catalog-2027", "catalog-2026"}, c.catalogs.keys)),
            (std::vector<std::string>{"catalog-2027", "catalog-2026"}));
  EXPECT_EQ(names_of(c.signing_keys({}, c.packages.keys)), (std::vector<std::string>{"packages-2026"}));
  // One key a command must choose (keygen) is the first of the list.
  EXPECT_EQ(c.key(std::nullopt).name, "catalog-2026");
  // A plain string stays valid.
  Config one = parse_config(std::string(kTwoCatalogKeys) + "[catalogs]\nkey = \"catalog-2027\"\n", "/x/c.toml");
  EXPECT_EQ(one.catalogs.keys, (std::vector<std::string>{"catalog-2027"}));
  EXPECT_EQ(names_of(one.signing_keys({}, one.catalogs.keys)), (std::vector<std::string>{"catalog-2027"}));
  // Nothing configured and several keys: the command must say which.
  Config none = parse_config(kTwoCatalogKeys, "/x/c.toml");
  EXPECT_THROW(none.signing_keys({}, none.catalogs.keys), Error);
  try {
    c.signing_keys({"catalog-2026", "nope"}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::usage);
    EXPECT_NE(std::string(e.what()).find("no key 'nope'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c.signing_keys({"catalog-2026", "catalog-2026"}, {}), Error);
}

TEST(Config, RefusesBadKeyLists) {
  const std::string keys = kTwoCatalogKeys;
  auto e = [&](const std::string& tail) { return error_of(keys + tail); };
  EXPECT_NE(e("[catalogs]\nkey = []\n").find("empty list"), std::string::npos);
  EXPECT_NE(e("[catalogs]\nkey = [\"catalog-2026\", 7]\n").find("list of them"), std::string::npos);
  EXPECT_NE(e("[catalogs]\nkey = 7\n").find("list of them"), std::string::npos);
  EXPECT_NE(e("[catalogs]\nkey = [[\"catalog-2026\"]]\n").find("list of them"), std::string::npos);
  EXPECT_NE(e("[catalogs]\nkey = [\"catalog-2026\", \"catalog-2026\"]\n").find("twice"), std::string::npos);
  EXPECT_NE(e("[catalogs]\nkey = [\"catalog-2026\", \"catalog-2028\"]\n").find("[keys.catalog-2028]"),
            std::string::npos);
  EXPECT_NE(e("[catalogs]\nkey = [\"\"]\n").find("empty key"), std::string::npos);
  EXPECT_NE(e("[packages]\nkey = [\"packages-2027\"]\n").find("[packages] key"), std::string::npos);
  EXPECT_NE(e("[packages]\nkey = []\n").find("empty list"), std::string::npos);
  // The line of the bad entry is named.
  std::string where = e("[catalogs]\nkey = [\n  \"catalog-2026\",\n  \"catalog-2029\",\n]\n");
  EXPECT_NE(where.find("catsign.toml:14"), std::string::npos) << where;
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
  EXPECT_NE(error_of("[daemon]\nunlock_window = \"7 fortnights\"\n").find("not a duration"), std::string::npos);
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

// TOML has no duration type: an unquoted `7d` is a syntax error, and the line must say to
// quote it rather than repeat the TOML parser's "expected digit".
TEST(Config, UnquotedDurationSaysToQuoteIt) {
  std::string e = error_of("[daemon]\nunlock_window = 7d\n");
  EXPECT_NE(e.find("catsign.toml:2"), std::string::npos) << e;
  EXPECT_NE(e.find("unlock_window = \"7d\""), std::string::npos) << e;
  EXPECT_EQ(e.find("expected digit"), std::string::npos) << e;
  e = error_of("[daemon]\nwarn_before = 1h 30m   # a comment\n");
  EXPECT_NE(e.find("warn_before = \"1h 30m\""), std::string::npos) << e;
  e = error_of("[token]\nsign_timeout = 90min\n");
  EXPECT_NE(e.find("sign_timeout = \"90min\""), std::string::npos) << e;
  // A number alone parses as TOML, but has no unit.
  e = error_of("[daemon]\nunlock_window = 7\n");
  EXPECT_NE(e.find("no unit"), std::string::npos) << e;
  EXPECT_NE(e.find("unlock_window = \"7s\""), std::string::npos) << e;
  // Other syntax errors keep the parser's own words.
  e = error_of("[daemon]\nsocket = /run/x\n");
  EXPECT_EQ(e.find("quoted string; write"), std::string::npos) << e;
}

TEST(Config, DurationsTakeSystemdForms) {
  Config c = parse_config("[daemon]\nunlock_window = \"1w\"\nwarn_before = \"1h 30m\"\nrequest_timeout = \"90min\"\n"
                          "[token]\nsign_timeout = \"2 minutes\"\n",
                          "/etc/catsign/catsign.toml");
  EXPECT_EQ(c.daemon.unlock_window, std::chrono::hours(24 * 7));
  EXPECT_EQ(c.daemon.warn_before, std::chrono::minutes(90));
  EXPECT_EQ(c.daemon.request_timeout, std::chrono::minutes(90));
  EXPECT_EQ(c.token.sign_timeout, std::chrono::minutes(2));
}

// RFC 7512 §2.4: module-path= and module-name= in a key's URI are used or refused, never ignored.
TEST(Config, ModulePathInAKeyUriIsUsedOrRefused) {
  const std::string key = "[keys.catalog]\ncertificate = \"c.asc\"\nuri = \"pkcs11:token=t;object=o";
  // No [token] module: the URI's module is the one used.
  Config c = parse_config(key + "?module-path=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\"\n", "/etc/c.toml");
  EXPECT_EQ(c.token.module, "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so");
  // The same module named both ways: fine.
  c = parse_config("[token]\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\n" + key +
                       "?module-path=/usr/lib/softhsm/libsofthsm2.so\"\n",
                   "/etc/c.toml");
  EXPECT_EQ(c.token.module, "/usr/lib/softhsm/libsofthsm2.so");
  // Another module than [token] module: refused, both named.
  std::string e = error_of("[token]\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\n" + key +
                           "?module-path=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\"\n");
  EXPECT_NE(e.find("module-path=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"), std::string::npos) << e;
  EXPECT_NE(e.find("[token] module is /usr/lib/softhsm/libsofthsm2.so"), std::string::npos) << e;
  // Two keys naming two modules: refused.
  e = error_of(key + "?module-path=/a/liba.so\"\n[keys.other]\ncertificate = \"o.asc\"\n"
                     "uri = \"pkcs11:token=t;object=p?module-path=/b/libb.so\"\n");
  EXPECT_NE(e.find("another key's uri"), std::string::npos) << e;
  // module-name= must be the module in use (its file name without lib and .so).
  c = parse_config("[token]\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\n" + key + "?module-name=softhsm2\"\n",
                   "/etc/c.toml");
  EXPECT_EQ(c.token.module, "/usr/lib/softhsm/libsofthsm2.so");
  e = error_of("[token]\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\n" + key + "?module-name=opensc-pkcs11\"\n");
  EXPECT_NE(e.find("module-name=opensc-pkcs11"), std::string::npos) << e;
  EXPECT_NE(e.find("module-name=softhsm2"), std::string::npos) << e;
  // A malformed URI is named with its key at load time.
  e = error_of("[keys.catalog]\ncertificate = \"c.asc\"\nuri = \"pkcs12:object=o\"\n");
  EXPECT_NE(e.find("[keys.catalog] uri"), std::string::npos) << e;
  EXPECT_NE(e.find("catsign.toml:3"), std::string::npos) << e;
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

TEST(Config, HttpSection) {
  Config off = parse_config("", "/etc/catsign/catsign.toml");
  EXPECT_FALSE(off.http.enabled);
  Config c = parse_config(R"([http]
listen = ["192.0.2.10:9981", "[::1]:9981"]
tls_certificate = "tls/server.pem"
tls_key = "/etc/catsign/tls/server.key"
client_ca = "/etc/catsign/tls/push-ca.pem"
client_names = ["push.example"]
allow = ["192.0.2.0/24", "2001:db8::/32"]
max_connections = 300
)", "/etc/catsign/catsign.toml");
  EXPECT_TRUE(c.http.enabled);
  EXPECT_EQ(c.http.listen, (std::vector<std::string>{"192.0.2.10:9981", "[::1]:9981"}));
  EXPECT_EQ(c.http.tls_certificate, "/etc/catsign/tls/server.pem");
  EXPECT_EQ(c.http.tls_key, "/etc/catsign/tls/server.key");
  EXPECT_EQ(c.http.client_ca, "/etc/catsign/tls/push-ca.pem");
  EXPECT_EQ(c.http.client_names, std::vector<std::string>{"push.example"});
  EXPECT_EQ(c.http.allow.size(), 2u);
  EXPECT_TRUE(c.http.tls);
  EXPECT_EQ(c.http.max_connections, 300u);
  // Empty allow (loopback only) and plain HTTP, said explicitly.
  Config plain = parse_config("[http]\nlisten = [\"127.0.0.1:9981\"]\ntls = false\n", "/etc/catsign/catsign.toml");
  EXPECT_FALSE(plain.http.tls);
  EXPECT_TRUE(plain.http.allow.empty());
}

TEST(Config, HttpSectionRefusesMistakes) {
  const std::string tls = "tls_certificate = \"s.pem\"\ntls_key = \"s.key\"\n";
  struct Case {
    std::string text, says;
  };
  const std::vector<Case> cases = {
      {"[http]\nlisten = [\"127.0.0.1:9981\"]\n", "tls = false"},  // TLS is the default: files needed
      {"[http]\nlisten = [\"127.0.0.1:9981\"]\ntls_certificate = \"s.pem\"\n", "tls_key"},
      {"[http]\n" + tls + "listen = [\"127.0.0.1\"]\n", "port"},
      {"[http]\n" + tls + "listen = [\"signer.example:9981\"]\n", "host names are not accepted"},
      {"[http]\n" + tls + "listen = [\"::1:9981\"]\n", "[::1]:9981"},
      {"[http]\n" + tls + "listen = [\"127.0.0.1:70000\"]\n", "port"},
      {"[http]\n" + tls + "listen = \"127.0.0.1:9981\"\n", "list of quoted strings"},
      {"[http]\n" + tls + "allow = [\"10.0.0.0/33\"]\n", "prefix length"},
      {"[http]\n" + tls + "allow = [\"10.0.0.1/8\"]\n", "network address"},
      {"[http]\n" + tls + "allow = [\"intranet\"]\n", "address range"},
      {"[http]\n" + tls + "allow = [10]\n", "list of quoted strings"},
      {"[http]\n" + tls + "tls = \"no\"\n", "true or false"},
      {"[http]\n" + tls + "max_connections = 0\n", "max_connections"},
      {"[http]\n" + tls + "client_names = [\"push\"]\n", "needs client_ca"},
      {"[http]\n" + tls + "client_names = [\"\"]\nclient_ca = \"ca.pem\"\n", "client_names"},
      {"[http]\ntls = false\nclient_ca = \"ca.pem\"\n", "need TLS"},
      {"[http]\n" + tls + "port = 9981\n", "unknown setting 'port' in [http]"},
      {"[http]\ntls_certificate = \"s.pem\"\ntls_key = \"\"\n", "must not be empty"},
      {"http = 1\n", "section"},
  };
  for (const Case& c : cases) {
    std::string e = error_of(c.text);
    EXPECT_NE(e.find(c.says), std::string::npos) << c.text << "\n -> " << e;
    EXPECT_NE(e.find("catsign.toml"), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace catsign
