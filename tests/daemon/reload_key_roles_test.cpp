// SPDX-License-Identifier: Apache-2.0
// What a SIGHUP may not change in a running daemon: which keys sign catalogs, packages and
// repository indexes. A reload that moves keys between those roles while the set of keys in
// use stays the same must still be refused, or catalogs could lose a signature unseen.
#include <gtest/gtest.h>

#include "catsign/config.hpp"
#include "catsign/daemon/reload.hpp"

namespace catsign {
namespace {

std::string config_with(const std::string& catalogs_key, const std::string& packages_key) {
  return R"(
[token]
module = "/usr/lib/softhsm/libsofthsm2.so"

[keys.a]
uri = "pkcs11:token=t;object=a"
certificate = "/tmp/a.asc"

[keys.b]
uri = "pkcs11:token=t;object=b"
certificate = "/tmp/b.asc"

[catalogs]
root = "/srv/x"
releases = ["unstable"]
arches = ["i386"]
osrels = ["5.10"]
key = )" + catalogs_key + R"(

[packages]
root = "/srv/p"
key = )" + packages_key + "\n";
}

TEST(ReloadKeyRoles, TheSameConfigurationNeedsNoRestart) {
  Config before = parse_config(config_with(R"(["a", "b"])", R"("b")"), "/etc/c.toml");
  Config after = parse_config(config_with(R"(["a", "b"])", R"("b")"), "/etc/c.toml");
  EXPECT_FALSE(daemon::restart_needed(before, after).has_value());
}

TEST(ReloadKeyRoles, SwappedCatalogKeyOrderIsRefused) {
  Config before = parse_config(config_with(R"(["a", "b"])", R"("b")"), "/etc/c.toml");
  Config after = parse_config(config_with(R"(["b", "a"])", R"("b")"), "/etc/c.toml");
  EXPECT_TRUE(daemon::restart_needed(before, after).has_value());
}

TEST(ReloadKeyRoles, CatalogLosesASignatureWhileTheUnionStays) {
  Config before = parse_config(config_with(R"(["a", "b"])", R"("b")"), "/etc/c.toml");
  Config after = parse_config(config_with(R"("a")", R"("b")"), "/etc/c.toml");
  // Catalogs go from two signatures to one: this must need a restart.
  EXPECT_TRUE(daemon::restart_needed(before, after).has_value());
}

TEST(ReloadKeyRoles, PackageKeyListChangeIsRefused) {
  Config before = parse_config(config_with(R"(["a", "b"])", R"("a")"), "/etc/c.toml");
  Config after = parse_config(config_with(R"(["a", "b"])", R"(["a", "b"])"), "/etc/c.toml");
  EXPECT_TRUE(daemon::restart_needed(before, after).has_value());
}

TEST(ReloadKeyRoles, PackagesMovedToTheCatalogKey) {
  Config before = parse_config(config_with(R"(["a", "b"])", R"("b")"), "/etc/c.toml");
  Config after = parse_config(config_with(R"(["a", "b"])", R"("a")"), "/etc/c.toml");
  EXPECT_TRUE(daemon::restart_needed(before, after).has_value());
}

}  // namespace
}  // namespace catsign
