// SPDX-License-Identifier: Apache-2.0
// The OpenPGP writer, checked by real clients: gpg and sqv must accept what we write, and
// compute the same fingerprint.
#include <gtest/gtest.h>

#include "../support/memory_signer.hpp"
#include "../support/process.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/cleartext.hpp"
#include "catsign/openpgp/signing.hpp"

namespace catsign::openpgp {
namespace {

using testing::GpgHome;
using testing::MemorySigner;
using testing::RunResult;
using testing::TempDir;
using testing::read_text;
using testing::write_text;

std::string to_string(const Bytes& b) { return std::string(b.begin(), b.end()); }

// What a cleartext verifier hands back (RFC 4880 §7.1): lines without CR or trailing blanks,
// each ending in LF.
std::string signed_text_of(const std::string& text) {
  std::string out, line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    out += line + "\n";
  }
  return out.empty() ? "\n" : out;
}

class WriterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    signer_ = new MemorySigner(2048);
    key_ = new OpenPgpKey(*signer_, PublicKey{1700000000, signer_->public_key()});
  }
  static void TearDownTestSuite() {
    delete key_;
    delete signer_;
  }
  void SetUp() override {
    cert_ = dir_ / "cert.asc";
    write_text(cert_, armor(ArmorKind::public_key, make_certificate(*key_, "Catalog Test <catalog@example.org>", {})));
  }

  Signature sign(const std::string& data, SignatureType type, SignOptions options = {}) {
    DocumentHasher h(options.hash, type);
    h.update(as_bytes(data));
    return key_->sign_document(std::move(h), options);
  }

  std::string clearsign(const std::string& text, HashAlgorithm hash = HashAlgorithm::sha256) {
    struct StringWriter : FileWriter {
      std::string s;
      using FileWriter::write;
      void write(ByteView d) override { s.append(d.begin(), d.end()); }
    } out;
    CleartextWriter w(out, hash);
    w.update(as_bytes(text));
    SignOptions options;
    options.hash = hash;
    Signature sig = key_->sign_document(w.finish_text(), options);
    w.write_signature(sig);
    return out.s;
  }

  static inline MemorySigner* signer_ = nullptr;
  static inline OpenPgpKey* key_ = nullptr;
  TempDir dir_;
  std::filesystem::path cert_;
};

TEST_F(WriterTest, GpgComputesTheSameFingerprint) {
  GpgHome gpg(cert_);
  RunResult r = gpg.gpg({"--with-colons", "--fingerprint", "catalog@example.org"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("fpr:::::::::" + format_fingerprint(key_->fingerprint()) + ":"), std::string::npos) << r.out;
  // The self-signature is valid in gpg's eyes: the user ID is not marked invalid or revoked.
  EXPECT_NE(r.out.find("uid:-::::"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("uid:r:"), std::string::npos) << r.out;
}

TEST_F(WriterTest, SqInspectReadsTheCertificate) {
  RunResult r = testing::run({"sq", "inspect", "--certifications", cert_.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(format_fingerprint(key_->fingerprint())), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Catalog Test <catalog@example.org>"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signing"), std::string::npos) << r.out;
}

TEST_F(WriterTest, DetachedBinaryAndArmoredVerifyInGpgAndSqv) {
  std::string data = "hello catalog\n";
  write_text(dir_ / "data", data);
  Signature sig = sign(data, SignatureType::binary);
  Bytes packet = sig.packet();
  std::string bin(packet.begin(), packet.end());
  write_text(dir_ / "data.sig", bin);
  write_text(dir_ / "data.asc", armor(ArmorKind::signature, sig.packet()));
  GpgHome gpg(cert_);
  for (const char* s : {"data.sig", "data.asc"}) {
    RunResult r = gpg.verify({(dir_ / s).string(), (dir_ / "data").string()});
    EXPECT_EQ(r.exit_code, 0) << s << r.err;
    EXPECT_NE(r.out.find("[GNUPG:] GOODSIG"), std::string::npos) << r.out;
    r = testing::run({"sqv", "--keyring", cert_.string(), (dir_ / s).string(), (dir_ / "data").string()});
    EXPECT_EQ(r.exit_code, 0) << s << r.err;
  }
  write_text(dir_ / "data", "hello catalog!\n");
  RunResult bad = gpg.verify({(dir_ / "data.asc").string(), (dir_ / "data").string()});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("[GNUPG:] BADSIG"), std::string::npos) << bad.out;
  EXPECT_NE(testing::run({"sqv", "--keyring", cert_.string(), (dir_ / "data.asc").string(), (dir_ / "data").string()}).exit_code, 0);
}

TEST_F(WriterTest, Sha512AndNotationShowInGpg) {
  std::string data = "catalog body\n";
  write_text(dir_ / "data", data);
  SignOptions o;
  o.hash = HashAlgorithm::sha512;
  o.notations.push_back({"catalog@catsign", "unstable/i386/5.10", true});
  Signature sig = sign(data, SignatureType::binary, o);
  write_text(dir_ / "data.asc", armor(ArmorKind::signature, sig.packet()));
  GpgHome gpg(cert_);
  RunResult r = gpg.gpg({"--status-fd", "1", "--verify-options", "show-notations", "--verify",
                          (dir_ / "data.asc").string(), (dir_ / "data").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("NOTATION_NAME catalog@catsign"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("VALIDSIG"), std::string::npos);
  // Field 8 of VALIDSIG is the hash algorithm: 10 is SHA-512.
  EXPECT_NE(r.out.find(" 00 " + format_fingerprint(key_->fingerprint())), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("catalog@catsign=unstable/i386/5.10"), std::string::npos) << r.err;
}

TEST_F(WriterTest, TextSignatureCanonicalisesLineEndings) {
  // A 0x01 signature over LF text must verify against the same text with CR LF endings.
  Signature sig = sign("a\nb\n", SignatureType::text);
  write_text(dir_ / "data", "a\r\nb\r\n");
  write_text(dir_ / "data.sig", to_string(sig.packet()));
  GpgHome gpg(cert_);
  RunResult r = gpg.verify({(dir_ / "data.sig").string(), (dir_ / "data").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(WriterTest, CleartextCasesVerifyInGpgAndSqv) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain", "line one\nline two\n"},
      {"dashes", "-----BEGIN PGP SIGNATURE-----\n- dash\n--\n-\n"},
      {"from", "From here\nFrom: not escaped\n"},
      {"trailing-blanks", "tabs\t\t\nspaces   \n \nkeep_inner_blanks\n"},
      {"crlf", "one\r\ntwo\r\n"},
      {"no-final-newline", "one\ntwo"},
      {"empty", ""},
      {"blank-lines", "\n\n\n"},
  };
  GpgHome gpg(cert_);
  for (const auto& [name, text] : cases) {
    std::string signed_text = clearsign(text);
    ASSERT_EQ(signed_text.rfind("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n", 0), 0u) << name;
    auto path = dir_ / (name + ".signed");
    write_text(path, signed_text);
    RunResult r = gpg.verify({path.string()});
    EXPECT_EQ(r.exit_code, 0) << name << "\n" << signed_text << r.err;
    // sqv takes detached signatures only; sq verifies the cleartext form.
    r = testing::run({"sq", "verify", "--signer-cert", cert_.string(), path.string()});
    EXPECT_EQ(r.exit_code, 0) << name << r.err;
    // gpg recovers the text, with the dash escapes undone.
    RunResult out = gpg.gpg({"--decrypt", path.string()});
    ASSERT_EQ(out.exit_code, 0) << name << out.err;
    EXPECT_EQ(out.out, signed_text_of(text)) << name;
  }
}

TEST_F(WriterTest, CleartextTamperingIsCaught) {
  std::string signed_text = clearsign("alpha\nbeta\n");
  auto pos = signed_text.find("beta");
  signed_text[pos] = 'B';
  write_text(dir_ / "t.signed", signed_text);
  GpgHome gpg(cert_);
  RunResult r = gpg.verify({(dir_ / "t.signed").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("BADSIG"), std::string::npos);
}

TEST_F(WriterTest, LeadingZeroSignaturesAreWrittenAsMinimalMpis) {
  // About one RSA signature in 256 starts with a zero octet; its MPI must drop it.
  for (int i = 0; i < 4000; ++i) {
    std::string data = "zero " + std::to_string(i);
    Signature sig = sign(data, SignatureType::binary);
    if (sig.mpis.at(0).size() == signer_->public_key().rsa.n.size()) continue;
    write_text(dir_ / "data", data);
    write_text(dir_ / "data.sig", to_string(sig.packet()));
    GpgHome gpg(cert_);
    RunResult r = gpg.verify({(dir_ / "data.sig").string(), (dir_ / "data").string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(testing::run({"sqv", "--keyring", cert_.string(), (dir_ / "data.sig").string(), (dir_ / "data").string()}).exit_code, 0);
    return;
  }
  FAIL() << "no signature with a leading zero octet in 4000 tries";
}

TEST_F(WriterTest, FaultySignerNeverYieldsASignature) {
  MemorySigner faulty(2048);
  OpenPgpKey key(faulty, PublicKey{1700000000, faulty.public_key()});
  faulty.corrupt_signatures(true);
  DocumentHasher h(HashAlgorithm::sha256, SignatureType::binary);
  h.update(as_bytes("x"));
  try {
    key.sign_document(std::move(h), {});
    FAIL() << "a corrupted signature was returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::token);
    EXPECT_NE(std::string(e.what()).find("does not verify"), std::string::npos);
  }
}

TEST_F(WriterTest, WrongTokenForCertificateIsNamed) {
  MemorySigner other(2048);
  try {
    OpenPgpKey key(other, key_->public_key());
    FAIL() << "a mismatched key was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::refused);
    EXPECT_NE(std::string(e.what()).find(format_fingerprint(key_->fingerprint())), std::string::npos);
  }
}

TEST_F(WriterTest, RevocationCertificateRevokesInGpg) {
  Signature rev = key_->revoke_key(RevocationReason::no_reason, "lost token", {});
  write_text(dir_ / "rev.asc", armor(ArmorKind::public_key, rev.packet()));
  GpgHome gpg(cert_);
  RunResult imp = gpg.gpg({"--import", (dir_ / "rev.asc").string()});
  EXPECT_NE(imp.err.find("revocation certificate imported"), std::string::npos) << imp.err;
  RunResult r = gpg.gpg({"--with-colons", "--list-keys", "catalog@example.org"});
  EXPECT_NE(r.out.find("pub:r:"), std::string::npos) << r.out;
}

TEST_F(WriterTest, ArmorIs64ColumnsWithCrc) {
  Bytes data(300, 0xab);
  std::string a = armor(ArmorKind::signature, data);
  std::istringstream lines(a);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "-----BEGIN PGP SIGNATURE-----");
  std::getline(lines, line);
  EXPECT_EQ(line, "");
  std::size_t body = 0;
  while (std::getline(lines, line) && line[0] != '=') {
    EXPECT_LE(line.size(), 64u);
    ++body;
  }
  EXPECT_EQ(body, 7u);  // 300 octets = 400 Base64 characters = 6 full lines and one of 16
  EXPECT_EQ(line.size(), 5u);
  // gpg's own dearmor agrees with the checksum and the bytes.
  TempDir d;
  write_text(d / "a.asc", a);
  RunResult r = testing::run({"gpg", "--batch", "--dearmor", "--output", (d / "a.bin").string(), (d / "a.asc").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(d / "a.bin"), std::string(data.begin(), data.end()));
}

}  // namespace
}  // namespace catsign::openpgp
