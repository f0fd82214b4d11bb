// SPDX-License-Identifier: Apache-2.0
// catsignd with every key type: catalog signatures (detached and cleartext) and SIGNPKG
// package signatures that gpg, gpgv, sqv and sq verify, the package gate and check-catalog
// over EC and Ed25519 package keys; a key's expiry in STATUS, warned about before it comes,
// and an expired key that signs nothing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <botan/hash.h>
#include <botan/hex.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

const std::string kTuple = "kiel/i386/5.11";

std::string hash_hex(const std::string& algo, const std::string& data) {
  auto h = Botan::HashFunction::create_or_throw(algo);
  h->update(data);
  return Botan::hex_encode(h->final(), false);
}

std::string read_text_or_empty(const std::string& path) {
  return std::filesystem::exists(path) ? read_text(path) : std::string();
}

class DaemonKeyTypes : public ::testing::TestWithParam<std::string> {};

TEST_P(DaemonKeyTypes, CatalogsAndPackagesVerifyInEveryClient) {
  DaemonFixture d({.package_key = true, .require_package_signatures = true, .algo = GetParam()});
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  // Two packages, signed by the daemon with the package key, then the catalog listing them.
  std::string catalog = "# CREATIONDATE 2026-11-25T00:00:00Z\n";
  for (int i = 0; i < 2; ++i) {
    const std::string name = "pkg" + std::to_string(i);
    const std::string file = name + "-1.0,REV=2026.11.25-SunOS5.11-i386-CSW.pkg.gz";
    const std::string data(3000 + static_cast<std::size_t>(i), static_cast<char>('a' + i));
    write_text(d.root() / kTuple / file, data);
    catalog += name + " 1.0,REV=2026.11.25 CSW" + name + " " + file + " " + hash_hex("MD5", data) + " " +
               std::to_string(data.size()) + " CSWcommon none none\n";
    Reply p = d.raw("SIGNPKG " + kTuple + "/" + file + " sha256=" + hash_hex("SHA-256", data) + "\n");
    ASSERT_EQ(p.code, "OK") << p.payload << d.log();
    write_text(d.root() / kTuple / (file + ".asc"), p.payload);
    RunResult s = run({"sqv", "--keyring", d.package_cert().string(), (d.root() / kTuple / (file + ".asc")).string(),
                       (d.root() / kTuple / file).string()});
    EXPECT_EQ(s.exit_code, 0) << s.err;
  }
  write_text(d.catalog(kTuple), catalog);
  // check-catalog runs the same gate with the EC or Ed25519 package keyring.
  RunResult c = d.catsign({"check-catalog", "--root", d.root().string(), kTuple, "--keyring", d.package_cert().string()});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;

  GpgHome gpg(d.cert());
  TempDir t;
  for (const char* mode : {"detached", "clearsign"}) {
    Reply r = d.sign(kTuple, std::string("mode=") + mode);
    ASSERT_EQ(r.code, "OK") << r.payload << d.log();
    const bool clear = std::string(mode) == "clearsign";
    auto sig = t / (clear ? "catalog.signed" : "catalog.asc");
    write_text(sig, r.payload);
    std::vector<std::string> args = {sig.string()};
    if (!clear) args.push_back(d.catalog(kTuple).string());
    // pkgutil's test: gpg --verify's exit code on the cleartext catalog.
    RunResult g = gpg.verify(args);
    EXPECT_EQ(g.exit_code, 0) << g.err;
    EXPECT_NE(g.out.find("[GNUPG:] GOODSIG"), std::string::npos) << g.out;
    std::vector<std::string> gpgv = {"gpgv", "--keyring", (gpg.path() / "pubring.kbx").string()};
    gpgv.insert(gpgv.end(), args.begin(), args.end());
    EXPECT_EQ(run(gpgv).exit_code, 0);
    if (!clear) {
      EXPECT_EQ(run({"sqv", "--keyring", d.cert().string(), sig.string(), d.catalog(kTuple).string()}).exit_code, 0);
    } else {
      RunResult q = run({"sq", "verify", "--signer-cert", d.cert().string(), sig.string()});
      EXPECT_EQ(q.exit_code, 0) << q.err;
      if (GetParam() == "nistp384") {
        EXPECT_NE(r.payload.find("Hash: SHA384\n"), std::string::npos);
      }
    }
    RunResult v = d.catsign({"verify", "--cert", d.cert().string(), "--expect-catalog", kTuple, sig.string()});
    if (!clear) v = d.catsign({"verify", "--cert", d.cert().string(), "--expect-catalog", kTuple, sig.string(),
                               d.catalog(kTuple).string()});
    EXPECT_EQ(v.exit_code, 0) << v.err;
  }
  // Tampered: the catalog changes after signing.
  std::string text = read_text(d.catalog(kTuple));
  text[text.size() / 2] = static_cast<char>(text[text.size() / 2] ^ 0x01);
  write_text(d.catalog(kTuple), text);
  EXPECT_NE(gpg.verify({(t / "catalog.asc").string(), d.catalog(kTuple).string()}).exit_code, 0);
  EXPECT_NE(run({"sqv", "--keyring", d.cert().string(), (t / "catalog.asc").string(), d.catalog(kTuple).string()}).exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, DaemonKeyTypes, ::testing::Values("nistp256", "nistp384", "ed25519"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(DaemonKeyExpiry, StatusShowsItAndTheDaemonWarnsOnce) {
  TempDir events;
  const std::string log = (events / "events").string();
  DaemonFixture d({.warn_before = "24h", .algo = "ed25519", .key_expires = "1h",
                   .expiry_command = "echo \"$CATSIGN_EVENT $CATSIGN_EXPIRES_IN_S\" >> " + log});
  nlohmann::json s = nlohmann::json::parse(d.status());
  ASSERT_TRUE(s["key_expires_in_s"].is_number_integer()) << s.dump();
  EXPECT_GT(s["key_expires_in_s"].get<long long>(), 3500);
  EXPECT_LE(s["key_expires_in_s"].get<long long>(), 3600);
  EXPECT_EQ(s["key_expiring"], "catalog");
  // The warning comes from the daemon's once-a-second clock: wait for the event, not a time.
  for (int i = 0; i < 100 && !std::filesystem::exists(log); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(std::filesystem::exists(log)) << d.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // more ticks: still one warning
  const std::string got = read_text(log);
  EXPECT_EQ(got.rfind("key-expires ", 0), 0u) << got;
  EXPECT_EQ(std::count(got.begin(), got.end(), '\n'), 1) << got;
  EXPECT_NE(d.log().find("expires in"), std::string::npos) << d.log();
  RunResult st = d.catsign({"status", "--config", d.config().string()});
  EXPECT_NE(st.out.find("key 'catalog' expires in"), std::string::npos) << st.out;
  // Not expired yet: it signs.
  ASSERT_EQ(d.unlock().code, "OK");
  EXPECT_EQ(d.sign(kTuple).code, "OK");
}

TEST(DaemonKeyExpiry, AnExpiredKeySignsNothing) {
  TempDir events;
  const std::string log = (events / "events").string();
  DaemonFixture d({.algo = "nistp256", .key_expires = "3s",
                   .expiry_command = "echo \"$CATSIGN_EVENT\" >> " + log});
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  ::sleep(4);  // past the key's expiry, three seconds after its creation
  Reply r = d.sign(kTuple, "mode=clearsign");
  EXPECT_EQ(r.code, "DENIED") << r.payload;
  EXPECT_NE(r.payload.find("has expired"), std::string::npos) << r.payload;
  EXPECT_NE(r.payload.find("catsign extend"), std::string::npos) << r.payload;
  nlohmann::json s = nlohmann::json::parse(d.status());
  EXPECT_LE(s["key_expires_in_s"].get<long long>(), 0) << s.dump();
  for (int i = 0; i < 100 && read_text_or_empty(log).find("key-expired") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_NE(read_text_or_empty(log).find("key-expired"), std::string::npos) << d.log();
  RunResult st = d.catsign({"status", "--config", d.config().string()});
  EXPECT_NE(st.out.find("EXPIRED"), std::string::npos) << st.out;

  // A person extends the key (the token's PIN, the certificate rewritten), and a SIGHUP makes
  // the daemon read it again: it signs at once, still unlocked, with the same key.
  const std::string pin = std::string(DaemonFixture::kPin) + "\n";
  RunResult ext = d.catsign({"extend", "--config", d.config().string(), "--expires", "1h", "--pin-fd", "3"}, &pin);
  ASSERT_EQ(ext.exit_code, 0) << ext.err;
  const std::string fingerprint = s["key_fingerprint"].get<std::string>();
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  nlohmann::json after;
  for (int i = 0; i < 100; ++i) {
    after = nlohmann::json::parse(d.status());
    if (after["key_expires_in_s"].is_number_integer() && after["key_expires_in_s"].get<long long>() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GT(after["key_expires_in_s"].get<long long>(), 3500) << after.dump();
  EXPECT_EQ(after["state"], "unlocked") << after.dump();
  EXPECT_EQ(after["key_fingerprint"], fingerprint) << after.dump();
  Reply again = d.sign(kTuple, "mode=clearsign");
  EXPECT_EQ(again.code, "OK") << again.payload << d.log();
  EXPECT_NE(d.log().find("now expires"), std::string::npos) << d.log();
}

// A certificate swapped for another key's is no extension: the reload is refused and the daemon
// keeps signing with the key it was unlocked with.
TEST(DaemonKeyExpiry, AReloadRefusesACertificateOfAnotherKey) {
  DaemonFixture d({.package_key = true, .algo = "nistp256"});
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  const nlohmann::json before = nlohmann::json::parse(d.status());
  // Another key of the same token, its certificate put where the catalog key's was.
  ASSERT_TRUE(std::filesystem::exists(d.package_cert()));
  std::filesystem::copy_file(d.package_cert(), d.cert(), std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  nlohmann::json after;
  for (int i = 0; i < 100; ++i) {
    after = nlohmann::json::parse(d.status());
    if (!after.value("reload_error", "").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(after.value("reload_error", "").find("now holds key"), std::string::npos) << after.dump();
  EXPECT_EQ(after["key_fingerprint"], before["key_fingerprint"]);
  EXPECT_EQ(d.sign(kTuple, "mode=clearsign").code, "OK") << d.log();
}

}  // namespace
}  // namespace catsign::testing
