// SPDX-License-Identifier: Apache-2.0
// The catsign binary end to end on a throwaway SoftHSM token: keygen, sign in every form, and
// proof from real clients (gpg, sqv, sq) that the signatures verify, that catsign verify
// agrees with them, and that one changed byte makes all of them say bad.
#include <gtest/gtest.h>

#include <fstream>

#include "../support/cli.hpp"
#include "../support/process.hpp"
#include "../token/softhsm_fixture.hpp"

namespace catsign {
namespace {

using namespace testing;


class CliInterop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    hsm_ = new SoftHsmToken();
    dir_ = new TempDir();
    write_config(*dir_ / "catsign.toml", "catalog-test", "keys/catalog.asc");
    RunResult r = catsign({"keygen", "--config", config(), "--bits", "2048", "--uid",
                           "Catalog Test <catalog@example.org>", "--pin-fd", "3"}, &kPinLine);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fingerprint_ = r.out.substr(r.out.find("fingerprint") + 13, 40);
    gpg_ = new GpgHome(cert());
  }
  static void TearDownTestSuite() {
    delete gpg_;
    delete dir_;
    delete hsm_;
  }

  static void write_config(const std::filesystem::path& path, const std::string& object,
                           const std::string& certificate, const std::string& token = "catsign") {
    std::filesystem::create_directories(path.parent_path() / "keys");
    write_text(path, "[token]\nmodule = \"" + SoftHsmToken::module_path() + "\"\n\n[keys.catalog]\nuri = \"pkcs11:token=" +
                         token + ";object=" + object + "\"\ncertificate = \"" + certificate +
                         "\"\nrevocation = \"" + certificate + ".rev\"\n");
  }
  static std::string config() { return (*dir_ / "catsign.toml").string(); }
  static std::string cert() { return (*dir_ / "keys/catalog.asc").string(); }

  static RunResult catsign(std::vector<std::string> args, const std::string* pin = nullptr) {
    args.insert(args.begin(), kCatsign);
    return testing::run(args, "", {{"SOFTHSM2_CONF", hsm_->conf_path()}}, pin);
  }

  // Every client's verdict on a detached signature (sqv takes detached signatures only).
  static void expect_detached(const std::filesystem::path& sig, const std::filesystem::path& data, bool good,
                              const std::string& what) {
    RunResult g = gpg_->verify({sig.string(), data.string()});
    EXPECT_EQ(g.exit_code == 0 && g.out.find("[GNUPG:] GOODSIG") != std::string::npos, good) << what << " gpg\n" << g.err;
    RunResult v = testing::run({"gpgv", "--keyring", (gpg_->path() / "pubring.kbx").string(), sig.string(), data.string()});
    EXPECT_EQ(v.exit_code == 0, good) << what << " gpgv\n" << v.err;
    RunResult s = testing::run({"sqv", "--keyring", cert(), sig.string(), data.string()});
    EXPECT_EQ(s.exit_code == 0, good) << what << " sqv\n" << s.err;
    RunResult q = testing::run({"sq", "verify", "--signer-cert", cert(), "--detached", sig.string(), data.string()});
    EXPECT_EQ(q.exit_code == 0, good) << what << " sq\n" << q.err;
    RunResult c = catsign({"verify", "--cert", cert(), sig.string(), data.string()});
    EXPECT_EQ(c.exit_code == 0, good) << what << " catsign verify\n" << c.err;
    if (!good) {
      EXPECT_NE(c.err.find("BAD signature"), std::string::npos) << c.err;
    }
  }

  static void expect_cleartext(const std::filesystem::path& signed_file, bool good, const std::string& what) {
    RunResult g = gpg_->verify({signed_file.string()});
    EXPECT_EQ(g.exit_code == 0 && g.out.find("[GNUPG:] GOODSIG") != std::string::npos, good) << what << " gpg\n" << g.err;
    RunResult v = testing::run({"gpgv", "--keyring", (gpg_->path() / "pubring.kbx").string(), signed_file.string()});
    EXPECT_EQ(v.exit_code == 0, good) << what << " gpgv\n" << v.err;
    RunResult q = testing::run({"sq", "verify", "--signer-cert", cert(), signed_file.string()});
    EXPECT_EQ(q.exit_code == 0, good) << what << " sq\n" << q.err;
    RunResult c = catsign({"verify", "--cert", cert(), signed_file.string()});
    EXPECT_EQ(c.exit_code == 0, good) << what << " catsign verify\n" << c.err;
  }

  static void flip_last_text_byte(const std::filesystem::path& p, std::size_t offset_from_start) {
    std::string s = read_text(p);
    ASSERT_LT(offset_from_start, s.size());
    s[offset_from_start] = static_cast<char>(s[offset_from_start] ^ 0x01);
    write_text(p, s);
  }

  static inline SoftHsmToken* hsm_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline GpgHome* gpg_ = nullptr;
  static inline std::string fingerprint_;
};

TEST_F(CliInterop, KeygenCertificateMatchesGpgFingerprint) {
  RunResult r = gpg_->gpg({"--with-colons", "--fingerprint", "catalog@example.org"});
  EXPECT_NE(r.out.find("fpr:::::::::" + fingerprint_ + ":"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(*dir_ / "keys/catalog.asc.rev"));
  EXPECT_EQ(std::filesystem::status(*dir_ / "keys/catalog.asc.rev").permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
}

TEST_F(CliInterop, KeygenNeverOverwritesAKey) {
  std::string before = read_text(cert());
  RunResult r = catsign({"keygen", "--config", config(), "--uid", "X <x@example.org>", "--pin-fd", "3"}, &kPinLine);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  // Same label, fresh certificate paths: the token still refuses to replace the key.
  write_config(*dir_ / "other.toml", "catalog-test", "keys/other.asc");
  r = catsign({"keygen", "--config", (*dir_ / "other.toml").string(), "--uid", "X <x@example.org>", "--pin-fd", "3"}, &kPinLine);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("already holds a key labelled 'catalog-test'"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "keys/other.asc"));
  EXPECT_EQ(read_text(cert()), before);
}

TEST_F(CliInterop, EveryFormVerifiesInEveryClientAndTamperingIsCaught) {
  TempDir d;
  std::map<std::string, std::string> cases = {
      {"opencsw-catalog", read_text(std::string(CATSIGN_SOURCE_DIR) + "/tests/data/opencsw/example-catalog.txt")},
      {"dashes-and-from", "-----BEGIN PGP SIGNATURE-----\n- x\nFrom the start\nFrom: header\n"},
      {"trailing-blanks", "a  \nb\t\n \t \nc\n"},
      {"crlf", "one\r\ntwo\r\nthree\r\n"},
      {"no-final-newline", "one\ntwo"},
      {"empty", ""},
  };
  ASSERT_GT(cases["opencsw-catalog"].size(), 100000u) << "the shared OpenCSW data is missing";
  std::vector<std::string> files;
  for (const auto& [name, text] : cases) {
    write_text(d / name, text);
    files.push_back((d / name).string());
  }
  for (const char* mode : {"", "--binary", "--clearsign"}) {
    std::vector<std::string> args = {"sign", "--config", config(), "--pin-fd", "3"};
    if (*mode) args.push_back(mode);
    args.insert(args.end(), files.begin(), files.end());
    RunResult r = catsign(args, &kPinLine);  // one PIN entry, one login, all files
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  for (const auto& [name, text] : cases) {
    auto data = d / name;
    expect_detached(d / (name + ".asc"), data, true, name + ".asc");
    expect_detached(d / (name + ".sig"), data, true, name + ".sig");
    expect_cleartext(d / (name + ".signed"), true, name + ".signed");
    std::string signed_text = read_text(d / (name + ".signed"));
    EXPECT_EQ(signed_text.rfind("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n", 0), 0u) << name;
  }
  // One changed byte: the data under a detached signature, and the text of a cleartext file.
  for (const auto& [name, text] : cases) {
    if (text.empty()) continue;
    std::string original = read_text(d / name);
    flip_last_text_byte(d / name, original.size() / 2);
    expect_detached(d / (name + ".asc"), d / name, false, name + " tampered");
    expect_detached(d / (name + ".sig"), d / name, false, name + " tampered");
    write_text(d / name, original);
    std::string s = read_text(d / (name + ".signed"));
    std::size_t body = s.find("\n\n") + 2;
    std::size_t pos = body + (s.find("-----BEGIN PGP SIGNATURE-----") - body) / 2;
    if (s[pos] == '\n' || s[pos] == '-') ++pos;
    flip_last_text_byte(d / (name + ".signed"), pos);
    expect_cleartext(d / (name + ".signed"), false, name + ".signed tampered");
  }
  // A changed byte inside the signature itself.
  std::string sig = read_text(d / "crlf.sig");
  sig[sig.size() - 3] = static_cast<char>(sig[sig.size() - 3] ^ 0x10);
  write_text(d / "crlf.sig", sig);
  expect_detached(d / "crlf.sig", d / "crlf", false, "signature tampered");
}

TEST_F(CliInterop, HundredMegabyteFileIsSignedInBoundedMemory) {
  TempDir d;
  {
    std::ofstream f(d / "big", std::ios::binary);
    std::string line = "CSWpkg 1.0 CSWpkg pkg-1.0-SunOS5.10-i386-CSW.pkg.gz 0123456789abcdef0123456789abcdef 12345 none none\n";
    for (std::size_t n = 0; n < (100u << 20); n += line.size()) f << line;
  }
  // GNU time reports the peak resident set; the file must be streamed, not held.
  RunResult r = testing::run({"/usr/bin/time", "-f", "maxrss_kb=%M", kCatsign, "sign", "--config", config(),
                              "--pin-fd", "3", (d / "big").string()},
                             "", {{"SOFTHSM2_CONF", hsm_->conf_path()}}, &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  long rss_kb = std::stol(r.err.substr(r.err.find("maxrss_kb=") + 10));
  EXPECT_LT(rss_kb, 40 * 1024) << "signing 100 MB held " << rss_kb << " KiB";
  ASSERT_EQ(catsign({"sign", "--config", config(), "--pin-fd", "3", "--clearsign", (d / "big").string()}, &kPinLine).exit_code, 0);
  expect_detached(d / "big.asc", d / "big", true, "100 MB detached");
  expect_cleartext(d / "big.signed", true, "100 MB cleartext");
}

TEST_F(CliInterop, WrongPinIsClearAndTheTokenStillWorks) {
  TempDir d;
  write_text(d / "f", "data\n");
  std::string wrong = "999999\n";
  RunResult r = catsign({"sign", "--config", config(), "--pin-fd", "3", (d / "f").string()}, &wrong);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("PIN"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_EQ(r.err.find("999999"), std::string::npos) << "the PIN must never be printed";
  EXPECT_FALSE(std::filesystem::exists(d / "f.asc"));
  r = catsign({"sign", "--config", config(), "--pin-fd", "3", (d / "f").string()}, &kPinLine);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_detached(d / "f.asc", d / "f", true, "after a wrong PIN");
}

TEST_F(CliInterop, WrongCertificateIsNamed) {
  // A second key on the same token whose certificate does not belong to the configured key.
  write_config(*dir_ / "second.toml", "second-key", "keys/second.asc");
  ASSERT_EQ(catsign({"keygen", "--config", (*dir_ / "second.toml").string(), "--bits", "2048", "--uid",
                     "Second <second@example.org>", "--pin-fd", "3"}, &kPinLine).exit_code, 0);
  write_config(*dir_ / "mixed.toml", "catalog-test", "keys/second.asc");
  TempDir d;
  write_text(d / "f", "x");
  RunResult r = catsign({"sign", "--config", (*dir_ / "mixed.toml").string(), "--pin-fd", "3", (d / "f").string()}, &kPinLine);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("is not the key of certificate"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("keys/second.asc"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(d / "f.asc"));
}

TEST_F(CliInterop, WrongTokenIsNamedWithTheTokensSeen) {
  write_config(*dir_ / "wrongtoken.toml", "catalog-test", "keys/catalog.asc", "other-token");
  TempDir d;
  write_text(d / "f", "x");
  RunResult r = catsign({"sign", "--config", (*dir_ / "wrongtoken.toml").string(), "--pin-fd", "3", (d / "f").string()}, &kPinLine);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("other-token"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("catsign"), std::string::npos) << "lists the token seen: " << r.err;
}

TEST_F(CliInterop, UsageErrorsExitTwoWithOneLine) {
  TempDir d;
  write_text(d / "a", "a");
  write_text(d / "b", "b");
  RunResult r = catsign({"sign", "--config", config(), "--output", (d / "o").string(), (d / "a").string(), (d / "b").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = catsign({"sign", "--config", config(), (d / "missing").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("missing"), std::string::npos);
  r = catsign({"sign", "--config", (d / "nope.toml").string(), (d / "a").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = catsign({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = catsign({"sign", "--clearsign", "--binary", "--config", config(), (d / "a").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  for (const auto& cmd : {"keygen", "sign", "verify"}) {
    RunResult h = catsign({cmd, "--help"});
    EXPECT_EQ(h.exit_code, 0);
    EXPECT_NE(h.out.find("--"), std::string::npos);
  }
}

TEST_F(CliInterop, VerifyChecksCatalogAndAge) {
  TempDir d;
  write_text(d / "catalog", "x\n");
  ASSERT_EQ(catsign({"sign", "--config", config(), "--pin-fd", "3", (d / "catalog").string()}, &kPinLine).exit_code, 0);
  // One-shot signatures name no catalog, so --expect-catalog must refuse them.
  RunResult r = catsign({"verify", "--cert", cert(), "--expect-catalog", "unstable/i386/5.10",
                         (d / "catalog.asc").string(), (d / "catalog").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("names no catalog"), std::string::npos) << r.err;
  r = catsign({"verify", "--cert", cert(), "--max-age", "1h", (d / "catalog.asc").string(), (d / "catalog").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ::sleep(2);
  r = catsign({"verify", "--cert", cert(), "--max-age", "1s", (d / "catalog.asc").string(), (d / "catalog").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("older than --max-age"), std::string::npos) << r.err;
}

TEST_F(CliInterop, OpenCswDsaKeyIsRefusedByName) {
  TempDir d;
  write_text(d / "f", "x");
  write_text(d / "f.asc", "-----BEGIN PGP SIGNATURE-----\n\n=twTO\n-----END PGP SIGNATURE-----\n");
  RunResult r = catsign({"verify", "--cert", std::string(CATSIGN_SOURCE_DIR) + "/tests/data/opencsw/csw_catalog_signing_2011-09.asc",
                         (d / "f.asc").string(), (d / "f").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("DSA"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace catsign
