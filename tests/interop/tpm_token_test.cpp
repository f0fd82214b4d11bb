// SPDX-License-Identifier: Apache-2.0
// catsign on a TPM: a tpm2-pkcs11 token on a private software TPM (tests/support/start-tpm-token),
// driven through the catsign and catsignd binaries. tpm2-pkcs11 refuses CKA_DECRYPT=false, so
// keygen asks again without it and says so; a P-256 key there is sign-only in effect (the token
// has no EC decryption or derivation), an RSA key can also decrypt and keygen warns. Its
// attributes are read back by pkcs11-tool; its signatures (detached, cleartext, from the CLI and
// from the daemon) are verified by gpg, gpgv and sqv, and rejected once a byte changes.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "../support/cli.hpp"
#include "../support/process.hpp"
#include "../token/tpm_fixture.hpp"

namespace catsign {
namespace {

using namespace testing;

const std::string kTpmPin = std::string(TpmToken::kUserPin) + "\n";

// The lines catsign itself wrote to stderr (the module writes its own "ERROR: ..." lines).
std::vector<std::string> catsign_lines(const std::string& err) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t end; (end = err.find('\n', start)) != std::string::npos; start = end + 1)
    if (err.compare(start, 9, "catsign: ") == 0) out.push_back(err.substr(start, end - start));
  return out;
}

std::string line_with(const std::string& text, const std::string& needle) {
  std::size_t at = text.find(needle);
  if (at == std::string::npos) return "";
  std::size_t begin = text.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(begin, text.find('\n', at) - begin);
}

std::string fpr_of(const std::string& colons) {
  std::size_t at = colons.find("fpr:::::::::");
  return at == std::string::npos ? "" : colons.substr(at + 12, 40);
}

class TpmTokenFlows : public ::testing::Test {
 protected:
  // [keys.catalog] names `object` on the TPM token.
  void write_config(const std::string& object, const std::string& extra = "") {
    write_text(config(), "[token]\nmodule = \"" + tpm_.module_path() +
                             "\"\nsessions = 2\n\n[keys.catalog]\nuri = \"pkcs11:token=" + tpm_.label() +
                             ";object=" + object + "\"\ncertificate = \"" + cert().string() +
                             "\"\nrevocation = \"" + (dir_ / "catalog.rev.asc").string() +
                             "\"\nuid = \"TPM Catalog <tpm@example.org>\"\n" + extra);
  }
  std::filesystem::path config() const { return dir_ / "catsign.toml"; }
  std::filesystem::path cert() const { return dir_ / "catalog.asc"; }

  RunResult catsign(std::vector<std::string> args, bool pin = true) const {
    args.insert(args.begin(), kCatsign);
    if (pin) args.insert(args.end(), {"--pin-fd", "3"});
    return run(args, "", tpm_.env(), pin ? &kTpmPin : nullptr);
  }

  // keygen --algo `algo`; returns the fingerprint it printed and leaves stderr in `err`.
  std::string keygen(const std::string& algo, std::string& err, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"keygen", "--config", config().string(), "--algo", algo};
    args.insert(args.end(), more.begin(), more.end());
    RunResult r = catsign(args);
    EXPECT_EQ(r.exit_code, 0) << r.err << tpm_.logs();
    err = r.err;
    std::size_t at = r.out.find("fingerprint");
    return at == std::string::npos ? "" : r.out.substr(at + 13, 40);
  }

  // pkcs11-tool's listing of the token's private keys, logged in.
  std::string private_keys_by_pkcs11_tool() const {
    RunResult t = run({"pkcs11-tool", "--module", tpm_.module_path(), "--token-label", tpm_.label(), "--login", "--pin",
                       TpmToken::kUserPin, "--list-objects", "--type", "privkey"},
                      "", tpm_.env());
    EXPECT_EQ(t.exit_code, 0) << t.err;
    return t.out;
  }

  std::string fingerprint_of_file(const std::filesystem::path& cert_file) const {
    TempDir home;
    std::filesystem::permissions(home.path(), std::filesystem::perms::owner_all);
    return fpr_of(run({"gpg", "--homedir", home.path().string(), "--batch", "--with-colons", "--show-keys",
                       cert_file.string()}).out);
  }

  // gpg, gpgv and sqv (detached) or gpg and gpgv (cleartext, data empty) all say `good`.
  void expect_verified(const GpgHome& gpg, const std::filesystem::path& sig, const std::filesystem::path& data,
                       bool good, const std::string& what) const {
    std::vector<std::string> args = {sig.string()};
    if (!data.empty()) args.push_back(data.string());
    RunResult g = gpg.verify(args);
    EXPECT_EQ(g.exit_code == 0 && g.out.find("[GNUPG:] GOODSIG") != std::string::npos, good)
        << what << " gpg\n" << g.err;
    std::vector<std::string> gpgv = {"gpgv", "--keyring", (gpg.path() / "pubring.kbx").string()};
    gpgv.insert(gpgv.end(), args.begin(), args.end());
    RunResult v = run(gpgv);
    EXPECT_EQ(v.exit_code == 0, good) << what << " gpgv\n" << v.err;
    if (!data.empty()) {
      RunResult s = run({"sqv", "--keyring", cert().string(), sig.string(), data.string()});
      EXPECT_EQ(s.exit_code == 0, good) << what << " sqv\n" << s.err;
    }
  }

  TpmToken tpm_;
  TempDir dir_;
};

TEST_F(TpmTokenFlows, P256KeyIsSignOnlyInEffectAndEveryClientVerifiesIt) {
  write_config("catalog-p256");
  std::string err;
  const std::string fp = keygen("nistp256", err);
  // Two lines of catsign's own: the retry, and the verdict on what the token chose.
  std::vector<std::string> said = catsign_lines(err);
  ASSERT_EQ(said.size(), 2u) << err;
  EXPECT_NE(said[0].find("refused the sign-only template (CKR_GENERAL_ERROR"), std::string::npos) << said[0];
  EXPECT_NE(said[0].find("without CKA_DECRYPT and CKA_ENCRYPT"), std::string::npos) << said[0];
  EXPECT_NE(said[1].find("sign-only in effect: the token offers no EC decryption or derivation"), std::string::npos)
      << said[1];

  // pkcs11-tool, not catsign, reads the private key back: it signs, is sensitive and was never
  // extractable; it neither derives nor unwraps. (It reports decrypt: the TPM's choice.)
  const std::string keys = private_keys_by_pkcs11_tool();
  EXPECT_NE(keys.find("Private Key Object; EC"), std::string::npos) << keys;
  const std::string usage = line_with(keys, "Usage:");
  EXPECT_NE(usage.find("sign"), std::string::npos) << keys;
  EXPECT_EQ(usage.find("derive"), std::string::npos) << keys;
  EXPECT_EQ(usage.find("unwrap"), std::string::npos) << keys;
  const std::string access = line_with(keys, "Access:");
  EXPECT_NE(access.find("sensitive"), std::string::npos) << keys;
  EXPECT_NE(access.find("never extractable"), std::string::npos) << keys;

  // catsign keys: sign-only, and why.
  RunResult k = catsign({"keys", "--config", config().string()});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  const std::string row = line_with(k.out, "catalog-p256 ");
  EXPECT_NE(row.find(fp), std::string::npos) << k.out;
  EXPECT_NE(row.find("NIST P-256"), std::string::npos) << row;
  EXPECT_NE(row.find(" catalog "), std::string::npos) << row;
  EXPECT_NE(row.find(" yes "), std::string::npos) << "sign-only: " << row;
  EXPECT_NE(k.out.find("catalog-p256: sign-only in effect (CKA_DECRYPT is true, but the token offers no EC "
                       "decryption or derivation)"),
            std::string::npos)
      << k.out;

  // Detached and cleartext, verified by real clients; one changed byte rejected by all.
  GpgHome gpg(cert());
  TempDir d;
  const std::string catalog = read_text(std::string(CATSIGN_SOURCE_DIR) + "/tests/data/opencsw/example-catalog.txt");
  write_text(d / "catalog", catalog);
  for (const char* mode : {"", "--clearsign"}) {
    std::vector<std::string> args = {"sign", "--config", config().string()};
    if (*mode) args.push_back(mode);
    args.push_back((d / "catalog").string());
    RunResult r = catsign(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  expect_verified(gpg, d / "catalog.asc", d / "catalog", true, "detached");
  expect_verified(gpg, d / "catalog.signed", {}, true, "cleartext");
  std::string changed = catalog;
  changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 0x01);
  write_text(d / "catalog", changed);
  expect_verified(gpg, d / "catalog.asc", d / "catalog", false, "tampered data");
  std::string s = read_text(d / "catalog.signed");
  std::size_t pos = s.find("CSWbash");
  ASSERT_NE(pos, std::string::npos);
  s[pos] = 'X';
  write_text(d / "catalog.signed", s);
  expect_verified(gpg, d / "catalog.signed", {}, false, "tampered cleartext");

  // export rebuilds the same certificate from the token (the key record on it).
  std::filesystem::remove(cert());
  RunResult x = catsign({"export", "--config", config().string(), "--output", (dir_ / "rebuilt.asc").string()});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_EQ(fingerprint_of_file(dir_ / "rebuilt.asc"), fp);
}

TEST_F(TpmTokenFlows, RsaKeyCanAlsoDecryptAndKeygenSaysSo) {
  write_config("catalog-rsa");
  // Without --allow-decrypt, a key that can decrypt is deleted again and nothing is written.
  RunResult refused = catsign({"keygen", "--config", config().string(), "--algo", "rsa2048"});
  EXPECT_EQ(refused.exit_code, 5) << refused.err;
  EXPECT_NE(refused.err.find("makes RSA keys that can also decrypt"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--allow-decrypt"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(cert()));
  EXPECT_EQ(private_keys_by_pkcs11_tool().find("Private Key Object"), std::string::npos)
      << private_keys_by_pkcs11_tool();

  std::string err;
  const std::string fp = keygen("rsa2048", err, {"--allow-decrypt"});
  std::vector<std::string> said = catsign_lines(err);
  ASSERT_EQ(said.size(), 2u) << err;
  EXPECT_NE(said[0].find("refused the sign-only template"), std::string::npos) << said[0];
  EXPECT_NE(said[1].find("warning: key \"catalog-rsa\" can also decrypt"), std::string::npos) << said[1];
  EXPECT_NE(said[1].find("prefer --algo nistp256"), std::string::npos) << said[1];

  // Still sensitive and never extractable: that is never given up.
  const std::string keys = private_keys_by_pkcs11_tool();
  EXPECT_NE(keys.find("Private Key Object; RSA"), std::string::npos) << keys;
  const std::string access = line_with(keys, "Access:");
  EXPECT_NE(access.find("sensitive"), std::string::npos) << keys;
  EXPECT_NE(access.find("never extractable"), std::string::npos) << keys;

  RunResult k = catsign({"keys", "--config", config().string()});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  const std::string row = line_with(k.out, "catalog-rsa ");
  EXPECT_NE(row.find(fp), std::string::npos) << k.out;
  EXPECT_NE(row.find(" no "), std::string::npos) << "not sign-only: " << row;
  EXPECT_NE(k.out.find("catalog-rsa: not sign-only: it can also decrypt (CKA_DECRYPT=true)"), std::string::npos)
      << k.out;

  // CKM_RSA_PKCS over the DigestInfo works there: gpg and sqv verify, and reject a changed byte.
  GpgHome gpg(cert());
  TempDir d;
  write_text(d / "catalog", "CSWbash 5.2 catalog line\n");
  RunResult r = catsign({"sign", "--config", config().string(), (d / "catalog").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_verified(gpg, d / "catalog.asc", d / "catalog", true, "RSA detached");
  write_text(d / "catalog", "CSWbash 5.3 catalog line\n");
  expect_verified(gpg, d / "catalog.asc", d / "catalog", false, "RSA tampered data");
}

TEST_F(TpmTokenFlows, TypesAndSizesTheTokenDoesNotMakeAreRefusedBeforeGenerating) {
  write_config("ed");
  RunResult r = catsign({"keygen", "--config", config().string(), "--algo", "ed25519"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("does not generate ed25519 keys (it offers no CKM_EC_EDWARDS_KEY_PAIR_GEN)"), std::string::npos)
      << r.err;
  write_config("big");
  r = catsign({"keygen", "--config", config().string(), "--algo", "rsa4096"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("makes RSA keys of 1024 to 3072 bits, not 4096"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(cert()));
  // Nothing was left on the token.
  RunResult t = run({"pkcs11-tool", "--module", tpm_.module_path(), "--token-label", tpm_.label(), "--login", "--pin",
                     TpmToken::kUserPin, "--list-objects"},
                    "", tpm_.env());
  EXPECT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out.find("Object"), std::string::npos) << t.out;
}

// catsignd on the TPM token: unlock, SIGN a catalog (detached and cleartext) through
// `catsign request`, lock and unlock again (the module finalised and loaded anew), sign again.
TEST_F(TpmTokenFlows, DaemonUnlocksAndSignsCatalogs) {
  const std::string tuple = "kiel/i386/5.11";
  std::filesystem::create_directories(dir_ / "mirror" / tuple);
  std::filesystem::create_directories(dir_ / "run");
  std::filesystem::create_directories(dir_ / "state");
  const std::filesystem::path catalog = dir_ / "mirror" / tuple / "catalog";
  write_text(catalog, "# CREATIONDATE 2026-11-25T00:00:00Z\n" +
                          read_text(std::string(CATSIGN_SOURCE_DIR) + "/tests/data/opencsw/example-catalog.txt"));
  write_config("catalog-daemon",
               "\n[daemon]\nsocket = \"" + (dir_ / "run/sign.sock").string() + "\"\nadmin_socket = \"" +
                   (dir_ / "run/admin.sock").string() + "\"\nunlock_window = \"1h\"\n\n[catalogs]\nroot = \"" +
                   (dir_ / "mirror").string() + "\"\nreleases = [\"kiel\"]\narches = [\"i386\"]\nosrels = [\"5.11\"]\n"
                   "key = \"catalog\"\n\n[audit]\nlog = \"" + (dir_ / "state/audit.jsonl").string() + "\"\n");
  std::string err;
  keygen("nistp256", err);

  const std::string log = (dir_ / "catsignd.log").string();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    for (int i = 3; i < 1024; ++i) ::close(i);
    for (const auto& [name, value] : tpm_.env()) ::setenv(name.c_str(), value.c_str(), 1);
    ::execl(CATSIGND_BINARY, CATSIGND_BINARY, "--config", config().c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  struct Stop {
    pid_t pid;
    ~Stop() {
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  } stop{pid};
  for (int i = 0; i < 150 && !std::filesystem::exists(dir_ / "run/admin.sock"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(std::filesystem::exists(dir_ / "run/admin.sock")) << read_text(log);

  const std::string sha256 = run({"sha256sum", catalog.string()}).out.substr(0, 64);
  GpgHome gpg(cert());
  auto request_and_verify = [&](const std::string& round) {
    RunResult a = catsign({"request", "--socket", (dir_ / "run/sign.sock").string(), tuple, "--sha256", sha256,
                           "--output", (dir_ / "request.asc").string()}, false);
    ASSERT_EQ(a.exit_code, 0) << round << a.err << read_text(log);
    RunResult c = catsign({"request", "--socket", (dir_ / "run/sign.sock").string(), tuple, "--sha256", sha256,
                           "--clearsign", "--output", (dir_ / "request.signed").string()}, false);
    ASSERT_EQ(c.exit_code, 0) << round << c.err << read_text(log);
    expect_verified(gpg, dir_ / "request.asc", catalog, true, round + " detached");
    expect_verified(gpg, dir_ / "request.signed", {}, true, round + " cleartext");
  };
  RunResult u = catsign({"unlock", "--config", config().string()});
  ASSERT_EQ(u.exit_code, 0) << u.err << read_text(log);
  request_and_verify("first unlock");
  ASSERT_EQ(catsign({"lock", "--config", config().string()}, false).exit_code, 0);
  RunResult locked = catsign({"request", "--socket", (dir_ / "run/sign.sock").string(), tuple, "--sha256", sha256,
                              "--output", (dir_ / "locked.asc").string()}, false);
  EXPECT_EQ(locked.exit_code, 3) << locked.err;
  u = catsign({"unlock", "--config", config().string()});
  ASSERT_EQ(u.exit_code, 0) << u.err << read_text(log);
  request_and_verify("second unlock");

  // The catalog changed after signing: rejected.
  std::string text = read_text(catalog);
  text[text.size() / 2] = static_cast<char>(text[text.size() / 2] ^ 0x01);
  write_text(catalog, text);
  expect_verified(gpg, dir_ / "request.asc", catalog, false, "tampered catalog");
}

}  // namespace
}  // namespace catsign
