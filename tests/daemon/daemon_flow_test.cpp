// SPDX-License-Identifier: Apache-2.0
// catsignd end to end on SoftHSM: the unlock window, tuple-bound signatures that real clients
// verify, locking by hand, by expiry and by a vanished token, and no PIN left in memory.
#include <botan/hash.h>
#include <botan/hex.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "catsign/openpgp/document_hasher.hpp"
#include "catsign/openpgp/verify.hpp"
#include "catsign/util/bytes.hpp"
#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

nlohmann::json status_of(const DaemonFixture& d) { return nlohmann::json::parse(d.status()); }

// Counts occurrences of `needle` in every readable mapping of process `pid`, read a chunk at
// a time. Under AddressSanitizer the daemon also maps the shadow memory, terabytes of it
// readable: it holds only ASan's bookkeeping, never data, so mappings that size are skipped.
int count_in_memory(pid_t pid, const std::string& needle) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::ifstream mem("/proc/" + std::to_string(pid) + "/mem", std::ios::binary);
  if (!maps || !mem) throw std::runtime_error("cannot read the daemon's memory");
#if defined(__SANITIZE_ADDRESS__)
  constexpr unsigned long kMaxRegion = 1ul << 32;
#else
  constexpr unsigned long kMaxRegion = ~0ul;
#endif
  constexpr std::size_t kChunk = 1 << 20;
  int found = 0;
  std::string line;
  std::string buffer;
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, perms) != 3 || perms[0] != 'r') continue;
    if (line.find("[vvar]") != std::string::npos || line.find("[vsyscall]") != std::string::npos) continue;
    if (end - start > kMaxRegion) continue;
    // Chunks overlap by needle.size() - 1 octets, so a PIN across a chunk edge is still seen.
    for (unsigned long at = start; at < end;) {
      const std::size_t want = static_cast<std::size_t>(std::min<unsigned long>(end - at, kChunk));
      buffer.assign(want, '\0');
      mem.clear();
      mem.seekg(static_cast<std::streamoff>(at));
      mem.read(buffer.data(), static_cast<std::streamsize>(want));
      buffer.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, mem.gcount())));
      // No match fits wholly in an overlap, so none is counted twice.
      for (std::size_t p = buffer.find(needle); p != std::string::npos; p = buffer.find(needle, p + 1)) ++found;
      if (buffer.size() < want || at + want >= end) break;
      at += want - (needle.size() - 1);
    }
  }
  return found;
}


TEST(DaemonFlow, LockedUnlockSignLockRefusedUnlockAgain) {
  DaemonFixture d;
  const std::string tuple = "unstable/i386/5.10";
  Reply r = d.sign(tuple);
  EXPECT_EQ(r.code, "LOCKED");
  EXPECT_NE(r.payload.find("catsign unlock"), std::string::npos) << r.payload;
  EXPECT_EQ(status_of(d)["state"], "locked");

  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  nlohmann::json s = status_of(d);
  EXPECT_EQ(s["state"], "unlocked");
  EXPECT_GT(s["expires_in_s"].get<long long>(), 3500);
  EXPECT_EQ(s["token_present"], true);

  r = d.sign(tuple);
  ASSERT_EQ(r.code, "OK") << r.payload;
  EXPECT_EQ(r.payload.rfind("-----BEGIN PGP SIGNATURE-----", 0), 0u);
  expect_clients_verify(d, tuple, r.payload, false);

  r = d.sign(tuple, "mode=clearsign");
  ASSERT_EQ(r.code, "OK") << r.payload;
  EXPECT_EQ(r.payload.rfind("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n", 0), 0u);
  expect_clients_verify(d, tuple, r.payload, true);

  r = d.sign(tuple, "armor=no");
  ASSERT_EQ(r.code, "OK") << r.payload;
  EXPECT_EQ(static_cast<unsigned char>(r.payload[0]) & 0xC0, 0xC0u);  // a binary packet
  expect_clients_verify(d, tuple, r.payload, false);

  // The in-tree symlink testing -> dublin works, and the notation names what was asked for.
  r = d.sign("testing/sparc/5.9");
  ASSERT_EQ(r.code, "OK") << r.payload;
  expect_clients_verify(d, "testing/sparc/5.9", r.payload, false);

  EXPECT_EQ(status_of(d)["signatures"], 4);
  ASSERT_EQ(d.lock("end of test window").code, "OK");
  r = d.sign(tuple);
  EXPECT_EQ(r.code, "LOCKED");
  EXPECT_NE(r.payload.find("end of test window"), std::string::npos) << r.payload;
  s = status_of(d);
  EXPECT_EQ(s["state"], "locked");
  EXPECT_EQ(s["locked_reason"], "end of test window");
  EXPECT_EQ(s["expires_in_s"], 0);

  ASSERT_EQ(d.unlock().code, "OK");
  EXPECT_EQ(d.sign(tuple).code, "OK");
}

std::vector<nlohmann::json> audit_records(const DaemonFixture& d) {
  std::vector<nlohmann::json> out;
  std::istringstream log(read_text(d.audit_log()));
  for (std::string line; std::getline(log, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Every signature is named in the log before its reply leaves: a "signing" record with the
// digest the token signed (which, with the key, fixes an RSA PKCS#1 v1.5 signature), then the
// "sign" record with the same digest and the SHA-256 of what the client received.
TEST(DaemonFlow, EachSignatureIsAuditedByItsDigestBeforeItsReply) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  const std::string tuple = "unstable/i386/5.10";
  const std::string catalog = read_text(d.catalog(tuple));
  for (const std::string options : {"", "armor=no", "mode=clearsign"}) {
    SCOPED_TRACE(options);
    Reply r = d.sign(tuple, options);
    ASSERT_EQ(r.code, "OK") << r.payload << "\n" << d.log();
    // Read at once, as the client has its reply: both records are in the file already.
    std::vector<nlohmann::json> records = audit_records(d);
    ASSERT_GE(records.size(), 2u);
    const nlohmann::json& signing = records[records.size() - 2];
    const nlohmann::json& sign = records.back();
    EXPECT_EQ(signing["event"], "signing") << signing.dump();
    EXPECT_EQ(signing["request"], "sign");
    EXPECT_EQ(signing["tuple"], tuple);
    EXPECT_EQ(signing["file_sha256"], d.sha256_of(tuple));
    EXPECT_EQ(sign["event"], "sign") << sign.dump();
    EXPECT_EQ(sign["result"], "ok");
    EXPECT_EQ(sign["key"], signing["key"]);
    EXPECT_EQ(sign["signed_digest"], signing["signed_digest"]);
    auto h = Botan::HashFunction::create_or_throw("SHA-256");
    h->update(r.payload);
    EXPECT_EQ(sign["signature_sha256"], Botan::hex_encode(h->final(), false));
    if (options == "mode=clearsign") continue;
    // The digest is the one the released signature covers (RFC 4880 §5.2.4).
    openpgp::Signature sig = openpgp::read_document_signature(as_bytes(r.payload));
    openpgp::DocumentHasher hasher(sig.hash, sig.type);
    hasher.update(as_bytes(catalog));
    EXPECT_EQ(signing["signed_digest"], to_hex(hasher.finish(sig)));
  }
  RunResult v = d.catsign({"audit", "verify", d.audit_log().string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
}

TEST(DaemonFlow, SignatureIsBoundToItsCatalog) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  Reply r = d.sign("unstable/i386/5.10");
  ASSERT_EQ(r.code, "OK");
  TempDir t;
  write_text(t / "sig.asc", r.payload);
  RunResult ok = d.catsign({"verify", "--cert", d.cert().string(), "--expect-catalog", "unstable/i386/5.10",
                            "--max-age", "1h", (t / "sig.asc").string(), d.catalog("unstable/i386/5.10").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // Replayed for another catalog (with that catalog's bytes swapped in): refused by name.
  std::filesystem::copy_file(d.catalog("unstable/i386/5.10"), t / "catalog");
  RunResult replay = d.catsign({"verify", "--cert", d.cert().string(), "--expect-catalog", "dublin/sparc/5.9",
                                (t / "sig.asc").string(), (t / "catalog").string()});
  EXPECT_EQ(replay.exit_code, 1);
  EXPECT_NE(replay.err.find("for catalog unstable/i386/5.10, not dublin/sparc/5.9"), std::string::npos) << replay.err;
}

TEST(DaemonFlow, HashMismatchSignsNothing) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  Reply r = d.raw("SIGN unstable/i386/5.10 sha256=" + d.sha256_of("dublin/sparc/5.9") + "\n");
  EXPECT_EQ(r.code, "HASH_MISMATCH");
  EXPECT_NE(r.payload.find(d.sha256_of("unstable/i386/5.10")), std::string::npos) << r.payload;
  EXPECT_EQ(status_of(d)["signatures"], 0);
}

TEST(DaemonFlow, ShortWindowExpiresByItself) {
  DaemonFixture d({.unlock_window = "3s", .warn_before = "2s"});
  ASSERT_EQ(d.unlock().code, "OK");
  EXPECT_EQ(d.sign("kiel/i386/5.11").code, "OK");
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  nlohmann::json s = status_of(d);
  EXPECT_EQ(s["state"], "locked");
  EXPECT_EQ(s["locked_reason"], "unlock window ended");
  EXPECT_EQ(d.sign("kiel/i386/5.11").code, "LOCKED");
  std::string log = d.log();
  EXPECT_NE(log.find("the unlock window ends in"), std::string::npos) << log;
  EXPECT_NE(log.find("unlock window ended"), std::string::npos) << log;
}

TEST(DaemonFlow, NoPinInMemoryAfterLockOrExpiry) {
  DaemonFixture d({.unlock_window = "3s", .warn_before = "1s"});
  ASSERT_EQ(d.unlock().code, "OK");
  ASSERT_EQ(d.sign("unstable/i386/5.10").code, "OK");
  // The scan works: it finds what the daemon does hold, the path of its sign socket.
  EXPECT_GT(count_in_memory(d.pid(), d.sign_socket().string()), 0);
  // catsign keeps no copy of the PIN even while unlocked: it goes to C_Login and is wiped.
  EXPECT_EQ(count_in_memory(d.pid(), DaemonFixture::kPin), 0) << "a copy of the PIN is kept while unlocked";
  ASSERT_EQ(d.lock().code, "OK");
  EXPECT_EQ(count_in_memory(d.pid(), DaemonFixture::kPin), 0) << "a copy of the PIN survived LOCK";

  ASSERT_EQ(d.unlock().code, "OK");
  ASSERT_EQ(d.sign("unstable/i386/5.10").code, "OK");
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  ASSERT_EQ(status_of(d)["state"], "locked");
  EXPECT_EQ(count_in_memory(d.pid(), DaemonFixture::kPin), 0) << "a copy of the PIN survived expiry";
}

TEST(DaemonFlow, WrongPinLeavesItLockedAndSpendsOneTry) {
  DaemonFixture d;
  Reply r = d.unlock("0000000000");
  // PIN_INCORRECT: the exit code of `catsign unlock` is then that of `catsign sign` with a
  // wrong PIN (the error table, error.hpp).
  EXPECT_EQ(r.code, "PIN_INCORRECT");
  EXPECT_NE(r.payload.find("PIN"), std::string::npos) << r.payload;
  EXPECT_EQ(r.payload.find("0000000000"), std::string::npos) << "the PIN must never be echoed";
  EXPECT_EQ(d.log().find("0000000000"), std::string::npos) << "the PIN must never be logged";
  EXPECT_EQ(status_of(d)["state"], "locked");
  EXPECT_EQ(d.sign("unstable/i386/5.10").code, "LOCKED");
  // SoftHSM 2.6 counts no tries, so "one try" shows as: the right PIN still works next.
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  EXPECT_EQ(d.sign("unstable/i386/5.10").code, "OK");
  // A second UNLOCK while unlocked can't be checked (the token accepts any PIN then): refused.
  r = d.unlock("0000000000");
  EXPECT_EQ(r.code, "DENIED");
  EXPECT_NE(r.payload.find("already unlocked"), std::string::npos) << r.payload;
}

TEST(DaemonFlow, VanishedTokenLocksAndStaysLocked) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  ASSERT_EQ(d.sign("unstable/i386/5.10").code, "OK");
  auto away = d.dir() / "tokens-away";
  std::filesystem::rename(d.token_dir(), away);
  Reply r = d.sign("unstable/i386/5.10");
  EXPECT_NE(r.code, "OK");
  nlohmann::json s = status_of(d);
  EXPECT_EQ(s["state"], "locked") << d.log();
  EXPECT_NE(s["locked_reason"].get<std::string>().find("token"), std::string::npos) << s.dump();
  std::filesystem::rename(away, d.token_dir());
  // Back again, but nobody unlocked: still locked.
  EXPECT_EQ(d.sign("unstable/i386/5.10").code, "LOCKED");
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  EXPECT_EQ(d.sign("unstable/i386/5.10").code, "OK");
}

TEST(DaemonFlow, CliClientsAndExitCodes) {
  DaemonFixture d;
  TempDir t;
  const std::string tuple = "unstable/sparc/5.10";
  auto request = [&](const std::string& sha, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"request", "--socket", d.sign_socket().string(), tuple, "--sha256", sha,
                                     "--output", (t / "out").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return d.catsign(args);
  };
  EXPECT_EQ(request(d.sha256_of(tuple)).exit_code, 3);
  EXPECT_FALSE(std::filesystem::exists(t / "out"));
  std::string pin = std::string(DaemonFixture::kPin) + "\n";
  RunResult u = d.catsign({"unlock", "--config", d.config().string(), "--pin-fd", "3"}, &pin);
  ASSERT_EQ(u.exit_code, 0) << u.err;
  RunResult r = request(d.sha256_of(tuple));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult v = d.catsign({"verify", "--cert", d.cert().string(), "--expect-catalog", tuple, (t / "out").string(),
                           d.catalog(tuple).string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  r = request(d.sha256_of(tuple), {"--clearsign"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(d.catsign({"verify", "--cert", d.cert().string(), (t / "out").string()}).exit_code, 0);
  EXPECT_EQ(request(d.sha256_of("dublin/sparc/5.9")).exit_code, 4);
  EXPECT_EQ(d.catsign({"request", "--socket", d.sign_socket().string(), "unstable/i386/5.8", "--sha256",
                       d.sha256_of(tuple), "--output", (t / "x").string()}).exit_code, 5);
  EXPECT_EQ(d.catsign({"request", "--socket", (d.dir() / "nope.sock").string(), tuple, "--sha256", d.sha256_of(tuple),
                       "--output", (t / "x").string()}).exit_code, 6);
  RunResult st = d.catsign({"status", "--config", d.config().string(), "--json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  nlohmann::json s = nlohmann::json::parse(st.out);
  for (const char* field : {"state", "expires_in_s", "locked_reason", "key_fingerprint", "token_present", "signatures", "last_error"})
    EXPECT_TRUE(s.contains(field)) << field;
  EXPECT_EQ(s["signatures"], 2);
  RunResult human = d.catsign({"status", "--config", d.config().string()});
  EXPECT_NE(human.out.find("unlocked"), std::string::npos) << human.out;
  EXPECT_EQ(d.catsign({"lock", "--config", d.config().string(), "--reason", "token-removed"}).exit_code, 0);
  EXPECT_EQ(request(d.sha256_of(tuple)).exit_code, 3);
  EXPECT_EQ(status_of(d)["locked_reason"], "token-removed");
  RunResult audit = d.catsign({"audit", "verify", d.audit_log().string()});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

}  // namespace
}  // namespace catsign::testing
