// SPDX-License-Identifier: Apache-2.0
// The package gate in catsignd and SIGNPKG: a catalog is signed only when every package it
// lists is present, intact and signed by the package key; refusals name the failures and are
// audited with them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <botan/auto_rng.h>
#include <botan/hash.h>
#include <botan/hex.h>

#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

const std::string kTuple = "kiel/i386/5.11";

std::string hash_hex(const std::string& algo, const std::string& data) {
  auto h = Botan::HashFunction::create_or_throw(algo);
  h->update(data);
  return Botan::hex_encode(h->final(), false);
}

// Writes `count` packages and a 9-field catalog listing them into the tuple's folder.
std::vector<std::string> make_tree(const DaemonFixture& d, int count) {
  Botan::AutoSeeded_RNG rng;
  std::string catalog = "# CREATIONDATE 2026-11-25T00:00:00Z\n";
  std::vector<std::string> files;
  for (int i = 0; i < count; ++i) {
    std::string name = "pkg" + std::to_string(i);
    std::string file = name + "-1.0,REV=2026.11.25-SunOS5.11-i386-CSW.pkg.gz";
    std::string data(2000 + 97 * static_cast<std::size_t>(i), '\0');
    rng.randomize(reinterpret_cast<std::uint8_t*>(data.data()), data.size());
    write_text(d.root() / kTuple / file, data);
    catalog += name + " 1.0,REV=2026.11.25 CSW" + name + " " + file + " " + hash_hex("MD5", data) + " " +
               std::to_string(data.size()) + " CSWcommon none none\n";
    files.push_back(file);
  }
  write_text(d.catalog(kTuple), catalog);
  return files;
}

Reply sign_package(const DaemonFixture& d, const std::string& file) {
  std::string data = read_text(d.root() / kTuple / file);
  return d.raw("SIGNPKG " + kTuple + "/" + file + " sha256=" + hash_hex("SHA-256", data) + "\n");
}

std::vector<nlohmann::json> audit_records(const DaemonFixture& d) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_text(d.audit_log()));
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(DaemonGate, SignsOnlyWhenEveryPackageIsPresentIntactAndSigned) {
  DaemonFixture d({.package_key = true, .require_package_signatures = true});
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  std::vector<std::string> files = make_tree(d, 6);

  // Nothing signed yet: refused, naming the failures and their count.
  Reply r = d.sign(kTuple);
  EXPECT_EQ(r.code, "PACKAGES_UNSIGNED");
  EXPECT_NE(r.payload.find("6"), std::string::npos) << r.payload;
  EXPECT_NE(r.payload.find("unsigned"), std::string::npos) << r.payload;

  // SIGNPKG with the package key; each .asc verifies in gpg against the package certificate.
  GpgHome gpg(d.package_cert());
  for (const std::string& f : files) {
    Reply s = sign_package(d, f);
    ASSERT_EQ(s.code, "OK") << s.payload;
    write_text(d.root() / kTuple / (f + ".asc"), s.payload);
    RunResult v = gpg.verify({(d.root() / kTuple / (f + ".asc")).string(), (d.root() / kTuple / f).string()});
    EXPECT_EQ(v.exit_code, 0) << v.err;
  }
  r = d.sign(kTuple);
  ASSERT_EQ(r.code, "OK") << r.payload;

  // A flipped byte in one package: refused by name, and audited with the list.
  std::string data = read_text(d.root() / kTuple / files[2]);
  data[100] = static_cast<char>(data[100] ^ 1);
  write_text(d.root() / kTuple / files[2], data);
  r = d.sign(kTuple);
  EXPECT_EQ(r.code, "PACKAGES_UNSIGNED");
  EXPECT_NE(r.payload.find(files[2]), std::string::npos) << r.payload;
  EXPECT_NE(r.payload.find("md5_mismatch"), std::string::npos) << r.payload;
  nlohmann::json last = audit_records(d).back();
  EXPECT_EQ(last["event"], "sign");
  EXPECT_EQ(last["code"], "PACKAGES_UNSIGNED");
  ASSERT_TRUE(last.contains("packages_failed"));
  EXPECT_EQ(last["packages_failed"][0]["file"], files[2]);
  EXPECT_EQ(last["packages_failed"][0]["status"], "md5_mismatch");
  EXPECT_EQ(d.catsign({"audit", "verify", d.audit_log().string()}).exit_code, 0);
}

TEST(DaemonGate, RealCatalogWithNoPackagesIsRefusedNotCrashed) {
  DaemonFixture d({.package_key = true, .require_package_signatures = true});
  ASSERT_EQ(d.unlock().code, "OK");
  Reply r = d.sign("unstable/i386/5.10");
  EXPECT_EQ(r.code, "PACKAGES_UNSIGNED");
  EXPECT_NE(r.payload.find("2146"), std::string::npos) << r.payload;
  EXPECT_EQ(d.raw("PING\n").code, "OK");
}

TEST(DaemonGate, SignPkgObeysThePathRules) {
  DaemonFixture d({.package_key = true});
  ASSERT_EQ(d.unlock().code, "OK");
  std::vector<std::string> files = make_tree(d, 1);
  std::string sha = hash_hex("SHA-256", read_text(d.root() / kTuple / files[0]));
  EXPECT_EQ(d.raw("SIGNPKG ../" + files[0] + " sha256=" + sha + "\n").code, "UNKNOWN_CATALOG");
  EXPECT_EQ(d.raw("SIGNPKG /etc/passwd.pkg.gz sha256=" + sha + "\n").code, "UNKNOWN_CATALOG");
  EXPECT_EQ(d.raw("SIGNPKG " + kTuple + "/catalog sha256=" + sha + "\n").code, "UNKNOWN_CATALOG");
  EXPECT_EQ(d.raw("SIGNPKG " + kTuple + "/" + files[0] + " sha256=" + std::string(64, '0') + "\n").code,
            "HASH_MISMATCH");
  EXPECT_EQ(d.raw("SIGNPKG " + kTuple + "/" + files[0] + " sha256=" + sha + " mode=clearsign\n").code,
            "BAD_REQUEST");
  // The package key signed it, not the catalog key.
  Reply ok = sign_package(d, files[0]);
  ASSERT_EQ(ok.code, "OK");
  TempDir t;
  write_text(t / "p.asc", ok.payload);
  EXPECT_EQ(d.catsign({"verify", "--cert", d.package_cert().string(), (t / "p.asc").string(),
                       (d.root() / kTuple / files[0]).string()}).exit_code, 0);
  EXPECT_NE(d.catsign({"verify", "--cert", d.cert().string(), (t / "p.asc").string(),
                       (d.root() / kTuple / files[0]).string()}).exit_code, 0);
}

TEST(DaemonGate, SignPkgIsRefusedWhenNotConfigured) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  Reply r = d.raw("SIGNPKG kiel/i386/5.11/x.pkg.gz sha256=" + std::string(64, '0') + "\n");
  EXPECT_EQ(r.code, "DENIED");
  EXPECT_NE(r.payload.find("[packages]"), std::string::npos) << r.payload;
}

}  // namespace
}  // namespace catsign::testing
