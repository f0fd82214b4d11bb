// SPDX-License-Identifier: Apache-2.0
// catsignd on a faulty token: libfaulty_pkcs11.so forwards to SoftHSM and fails, hangs,
// corrupts or flags what each test asks for. A corrupted signature is never released, a
// vanished or logged-out token locks the daemon, a hung token freezes nobody else, PIN flags
// and always-authenticate keys are refused at unlock, the PIN pad unlocks without a PIN; and
// after every fault a person's unlock brings signing back.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kTuple = "unstable/i386/5.10";

DaemonOptions faulty(DaemonOptions o, const TempDir& control_dir) {
  o.module = FAULTY_PKCS11_MODULE;
  o.env["FAULTY_PKCS11_CONTROL"] = (control_dir / "control").string();
  o.env["FAULTY_PKCS11_PAD_PIN"] = DaemonFixture::kPin;
  return o;
}

// A daemon whose [token] module is the faulty one, and the faults it is told about.
struct FaultyDaemon {
  explicit FaultyDaemon(DaemonOptions o = {}) : d(faulty(std::move(o), control_dir)) {}

  // Replaces the faults; the module counts "the Nth call" from this moment.
  void faults(const std::string& text) const {
    auto tmp = control_dir / "control.new";
    write_text(tmp, text);
    std::filesystem::rename(tmp, control_dir / "control");
  }

  // Calls of `function` the module has seen since the daemon loaded it.
  long calls(const std::string& function) const {
    std::ifstream in(control_dir / "control.stats");
    std::string name;
    long n = 0;
    while (in >> name >> n)
      if (name == function) return n;
    return 0;
  }

  nlohmann::json status() const { return nlohmann::json::parse(d.status()); }

  std::vector<nlohmann::json> audit() const {
    std::vector<nlohmann::json> out;
    std::istringstream in(read_text(d.audit_log()));
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  // The faults gone, a person unlocks (when the daemon is locked) and signing works again:
  // the signature verifies with sqv.
  void expect_signing_comes_back() const {
    faults("");
    if (status()["state"] == "locked") {
      Reply u = d.unlock();
      ASSERT_EQ(u.code, "OK") << u.payload << "\n" << d.log();
    }
    Reply r = d.sign(kTuple);
    ASSERT_EQ(r.code, "OK") << r.payload << "\n" << d.log();
    TempDir t;
    write_text(t / "catalog.sig", r.payload);
    RunResult v = run({"sqv", "--keyring", d.cert().string(), (t / "catalog.sig").string(), d.catalog(kTuple).string()});
    EXPECT_EQ(v.exit_code, 0) << v.err;
  }

  TempDir control_dir;  // before d: the daemon's environment names it
  DaemonFixture d;
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(DaemonFault, CorruptedSignatureIsNeverReleased) {
  FaultyDaemon f;
  ASSERT_EQ(f.d.unlock().code, "OK") << f.d.log();
  f.faults("flip_signature\n");
  std::size_t before = f.audit().size();
  for (const std::string& options : {std::string(), std::string("mode=clearsign"), std::string("armor=yes")}) {
    Reply r = f.d.sign(kTuple, options);
    EXPECT_EQ(r.code, "TOKEN_ERROR") << options << ": " << r.payload;
    EXPECT_TRUE(contains(r.payload, "does not verify")) << r.payload;
  }
  EXPECT_EQ(f.calls("C_Sign"), 3);
  // Each request left the "signing" record written while the token worked (the digest it was
  // asked to sign), then its refusal; none of them released a signature.
  std::vector<nlohmann::json> records = f.audit();
  ASSERT_EQ(records.size(), before + 6);
  for (std::size_t i = before; i < records.size(); i += 2) {
    const nlohmann::json& signing = records[i];
    const nlohmann::json& result = records[i + 1];
    EXPECT_EQ(signing["event"], "signing") << signing.dump();
    EXPECT_EQ(signing["request"], "sign") << signing.dump();
    EXPECT_EQ(signing["signed_digest"].get<std::string>().size(), 64u) << signing.dump();
    EXPECT_EQ(result["event"], "sign") << result.dump();
    EXPECT_EQ(result["result"], "refused") << result.dump();
    EXPECT_EQ(result["code"], "TOKEN_ERROR") << result.dump();
    EXPECT_EQ(result["signed_digest"], signing["signed_digest"]) << result.dump();
    EXPECT_FALSE(result.contains("signature_sha256")) << result.dump();
  }
  EXPECT_EQ(f.status()["signatures"], 0);
  f.expect_signing_comes_back();
}

class TokenGone : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenGone, FailedSignLocksTheDaemon) {
  const std::string rv = GetParam();
  FaultyDaemon f;
  ASSERT_EQ(f.d.unlock().code, "OK") << f.d.log();
  ASSERT_EQ(f.d.sign(kTuple).code, "OK");
  f.faults("fail C_Sign 1 " + rv + "\n");
  Reply r = f.d.sign(kTuple);
  EXPECT_NE(r.code, "OK");
  EXPECT_EQ(r.code, "LOCKED") << r.payload;
  EXPECT_TRUE(contains(r.payload, rv)) << r.payload;
  nlohmann::json s = f.status();
  EXPECT_EQ(s["state"], "locked") << s.dump();
  std::string reason = s["locked_reason"].get<std::string>();
  EXPECT_TRUE(contains(reason, "token")) << reason;
  EXPECT_TRUE(contains(reason, rv)) << reason;
  // Locked means locked, even with the token answering again: only a person unlocks.
  f.faults("");
  EXPECT_EQ(f.d.sign(kTuple).code, "LOCKED");
  f.expect_signing_comes_back();
}

INSTANTIATE_TEST_SUITE_P(DaemonFault, TokenGone,
                         ::testing::Values("CKR_DEVICE_REMOVED", "CKR_TOKEN_NOT_PRESENT", "CKR_USER_NOT_LOGGED_IN",
                                           "CKR_SESSION_HANDLE_INVALID"));

TEST(DaemonFault, GeneralErrorFailsTheRequestButStaysUnlocked) {
  FaultyDaemon f;
  ASSERT_EQ(f.d.unlock().code, "OK") << f.d.log();
  f.faults("fail C_Sign 1 CKR_GENERAL_ERROR\n");
  Reply r = f.d.sign(kTuple);
  EXPECT_EQ(r.code, "TOKEN_ERROR") << r.payload;
  EXPECT_TRUE(contains(r.payload, "CKR_GENERAL_ERROR")) << r.payload;
  EXPECT_EQ(f.status()["state"], "unlocked");
  // Only the first call failed: the next request signs without anyone unlocking.
  EXPECT_EQ(f.d.sign(kTuple).code, "OK") << f.d.log();
  f.expect_signing_comes_back();
}

TEST(DaemonFault, PinFinalTryAndLockedAreRefusedBeforeLogin) {
  FaultyDaemon f;
  struct Case {
    const char* flags;
    const char* says;
  };
  for (const Case& c : {Case{"final_try", "one PIN try left"}, Case{"locked", "PIN is locked"}}) {
    f.faults(std::string("pin_flags ") + c.flags + "\n");
    long logins = f.calls("C_Login");
    Reply r = f.d.unlock();
    EXPECT_EQ(r.code, "DENIED") << c.flags << ": " << r.payload;
    EXPECT_TRUE(contains(r.payload, c.says)) << r.payload;
    EXPECT_EQ(f.calls("C_Login"), logins) << c.flags << ": a PIN try was spent";
    EXPECT_EQ(f.status()["state"], "locked");
    EXPECT_EQ(f.d.sign(kTuple).code, "LOCKED");
  }
  f.expect_signing_comes_back();
}

TEST(DaemonFault, PinCountLowStillUnlocks) {
  FaultyDaemon f;
  f.faults("pin_flags count_low\n");
  Reply r = f.d.unlock();
  ASSERT_EQ(r.code, "OK") << r.payload << f.d.log();
  EXPECT_EQ(f.calls("C_Login"), 1);
  EXPECT_EQ(f.d.sign(kTuple).code, "OK");
  ASSERT_EQ(f.d.lock().code, "OK");
  f.expect_signing_comes_back();
}

TEST(DaemonFault, AlwaysAuthenticateKeyIsRefusedAtUnlock) {
  FaultyDaemon f;
  f.faults("always_authenticate\n");
  Reply r = f.d.unlock();
  EXPECT_EQ(r.code, "DENIED") << r.payload;
  EXPECT_TRUE(contains(r.payload, "CKA_ALWAYS_AUTHENTICATE")) << r.payload;
  EXPECT_TRUE(contains(r.payload, "forcesig")) << r.payload;
  EXPECT_TRUE(contains(r.payload, "9a")) << r.payload;
  EXPECT_EQ(f.status()["state"], "locked");
  EXPECT_EQ(f.d.sign(kTuple).code, "LOCKED");
  f.expect_signing_comes_back();
}

TEST(DaemonFault, PinPadUnlocksWithoutAPin) {
  FaultyDaemon f;
  f.faults("protected_auth_path\n");
  Reply r = f.d.unlock("");
  ASSERT_EQ(r.code, "OK") << r.payload << f.d.log();
  EXPECT_EQ(f.calls("C_Login"), 1);
  EXPECT_EQ(f.d.sign(kTuple).code, "OK") << f.d.log();
  // Without a PIN pad an empty PIN is refused, and the PIN works again.
  ASSERT_EQ(f.d.lock().code, "OK");
  f.faults("");
  EXPECT_EQ(f.d.unlock("").code, "BAD_REQUEST");
  f.expect_signing_comes_back();
}

// Milliseconds a request on a fresh connection takes.
template <typename F>
long long millis(F&& f) {
  auto t0 = Clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

TEST(DaemonFault, HungTokenFreezesNobodyAndTimesOut) {
  DaemonOptions o;
  o.sessions = 1;
  o.sign_timeout = "2s";
  FaultyDaemon f(o);
  ASSERT_EQ(f.d.unlock().code, "OK") << f.d.log();
  f.faults("hang C_Sign 8000\n");
  auto t0 = Clock::now();
  std::future<Reply> stuck = std::async(std::launch::async, [&] { return f.d.sign(kTuple); });
  // Wait until the token really has the request.
  while (f.calls("C_Sign") < 1 && Clock::now() - t0 < std::chrono::seconds(5))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(f.calls("C_Sign"), 1) << f.d.log();

  Reply status, ping, admin_status, lock, refused;
  EXPECT_LT(millis([&] { status = f.d.raw("STATUS\n", false, 5); }), 1000);
  EXPECT_EQ(status.code, "OK");
  EXPECT_LT(millis([&] { ping = f.d.raw("PING\n", false, 5); }), 1000);
  EXPECT_EQ(ping.code, "OK");
  EXPECT_LT(millis([&] { admin_status = f.d.raw("STATUS\n", true, 5); }), 1000);
  EXPECT_EQ(admin_status.code, "OK");
  EXPECT_LT(millis([&] { lock = f.d.raw("LOCK hung token\n", true, 5); }), 1000);
  EXPECT_EQ(lock.code, "OK") << lock.payload;
  // Another client is told at once that the daemon is locked.
  EXPECT_LT(millis([&] { refused = f.d.raw("SIGN " + std::string(kTuple) + " sha256=" + f.d.sha256_of(kTuple) + "\n", false, 5); }), 1000);
  EXPECT_EQ(refused.code, "LOCKED") << refused.payload;

  // The stuck request ends with a clear error after the daemon's sign timeout, not the hang.
  ASSERT_EQ(stuck.wait_until(t0 + std::chrono::seconds(4)), std::future_status::ready)
      << "the stuck SIGN did not end within 4 s (sign_timeout = 2s)";
  Reply r = stuck.get();
  EXPECT_EQ(r.code, "TOKEN_ERROR") << r.payload;
  EXPECT_TRUE(contains(r.payload, "did not answer")) << r.payload;
  EXPECT_EQ(f.status()["state"], "locked");

  // While the token still hangs, a person's UNLOCK is answered at once; it cannot succeed
  // while the hung call holds the token.
  Reply early;
  EXPECT_LT(millis([&] { early = f.d.raw("UNLOCK\n" + std::string(DaemonFixture::kPin) + "\n", true, 5); }), 1000);
  EXPECT_NE(early.code, "OK") << early.payload;
  EXPECT_EQ(f.calls("C_Login"), 1) << "UNLOCK logged in again while the hung call held the token";

  // The token answers again; a person unlocks (the hung call lets go of the token first).
  f.faults("");
  Reply u;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  do {
    u = f.d.unlock();
    if (u.code == "OK") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (Clock::now() < deadline);
  ASSERT_EQ(u.code, "OK") << u.payload << "\n" << f.d.log();
  f.expect_signing_comes_back();
}

}  // namespace
}  // namespace catsign::testing

namespace catsign::testing {
namespace {

TEST(DaemonFault, UnlockWarnsAboutAKeyThatCanAlsoDecrypt) {
  FaultyDaemon f;
  f.faults("can_decrypt\n");
  Reply u = f.d.unlock();
  ASSERT_EQ(u.code, "OK") << u.payload << "\n" << f.d.log();
  EXPECT_NE(u.payload.find("warning: key 'catalog': the private key \"catalog-test\" on token \"catsign\" can "
                           "also decrypt (CKA_DECRYPT true)"),
            std::string::npos)
      << u.payload;
  EXPECT_NE(f.d.log().find("can also decrypt"), std::string::npos) << f.d.log();
  EXPECT_EQ(f.audit().back()["warnings"].size(), 1u) << f.audit().back().dump();
  // Warned, not refused: it signs.
  Reply r = f.d.sign(kTuple);
  EXPECT_EQ(r.code, "OK") << r.payload;
  // And catsign unlock prints the warning to the person.
  f.d.lock();
  std::string pin = std::string(DaemonFixture::kPin) + "\n";
  RunResult c = f.d.catsign({"unlock", "--config", f.d.config().string(), "--pin-fd", "3"}, &pin);
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("warning: key 'catalog'"), std::string::npos) << c.out;
}

}  // namespace
}  // namespace catsign::testing
