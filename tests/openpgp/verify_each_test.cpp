// SPDX-License-Identifier: Apache-2.0
// Files signed by several keys: each signature is judged on its own (good, bad, unknown) and
// named by its issuer; what is not a list of document signatures is refused as malformed.
#include <gtest/gtest.h>

#include "../support/memory_signer.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/packet.hpp"
#include "catsign/openpgp/verify_each.hpp"
#include "catsign/signing/pipeline.hpp"

namespace catsign::openpgp {
namespace {

using testing::MemorySigner;

const std::string kText = "first line\n-dash line\nlast line without a newline";

struct TestKey {
  explicit TestKey(std::uint32_t created)
      : signer(2048),
        key(signer, PublicKey{created, signer.public_key()}),
        as_signer(key),
        cert(parse_certificate(make_certificate(key, "Key <key@example.org>", {}))) {}
  MemorySigner signer;
  OpenPgpKey key;
  signing::KeySigner as_signer;
  Certificate cert;
};

class VerifyEach : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    old_ = new TestKey(1700000000);
    new_ = new TestKey(1700000100);
    other_ = new TestKey(1700000200);
  }
  static void TearDownTestSuite() {
    delete old_;
    delete new_;
    delete other_;
  }

  static std::string sign(signing::Form form, std::vector<signing::DocumentSigner*> signers,
                          const std::string& text = kText) {
    signing::StringWriter out;
    signing::Job job(form, SignOptions{}, out);
    job.update(as_bytes(text));
    job.sign(signers);
    return out.text;
  }
  static std::vector<SignatureReport> detached(const std::vector<Certificate>& certs, const std::string& sig,
                                               const std::string& data = kText) {
    std::vector<Signature> sigs = read_document_signatures(as_bytes(sig));
    return verify_each(certs, sigs, [&](DocumentHasher& h) { h.update(as_bytes(data)); });
  }

  static inline TestKey* old_ = nullptr;
  static inline TestKey* new_ = nullptr;
  static inline TestKey* other_ = nullptr;
};

TEST_F(VerifyEach, EachSignatureIsNamedWithItsVerdict) {
  for (signing::Form form : {signing::Form::detached_armored, signing::Form::detached_binary, signing::Form::cleartext}) {
    SCOPED_TRACE(signing::form_name(form));
    const std::string published = sign(form, {&old_->as_signer, &new_->as_signer});
    auto check = [&](const std::vector<Certificate>& certs) {
      return form == signing::Form::cleartext ? verify_cleartext_each(certs, published) : detached(certs, published);
    };
    // Knowing the old key only: the old signature is good, the new one unknown.
    std::vector<SignatureReport> r = check({old_->cert});
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].verdict, Verdict::good);
    EXPECT_EQ(r[0].issuer, format_fingerprint(old_->cert.fingerprint));
    EXPECT_EQ(r[0].verified->signer, old_->cert.fingerprint);
    EXPECT_EQ(r[1].verdict, Verdict::unknown);
    EXPECT_EQ(r[1].issuer, format_fingerprint(new_->cert.fingerprint));
    // The new key only, and both.
    r = check({new_->cert});
    EXPECT_EQ(r[0].verdict, Verdict::unknown);
    EXPECT_EQ(r[1].verdict, Verdict::good);
    r = check({new_->cert, old_->cert});
    EXPECT_EQ(r[0].verdict, Verdict::good);
    EXPECT_EQ(r[1].verdict, Verdict::good);
    // Neither.
    r = check({other_->cert});
    EXPECT_EQ(r[0].verdict, Verdict::unknown);
    EXPECT_EQ(r[1].verdict, Verdict::unknown);
  }
}

TEST_F(VerifyEach, ChangedDataIsBadForEveryKnownKey) {
  const std::string sig = sign(signing::Form::detached_armored, {&old_->as_signer, &new_->as_signer});
  std::vector<SignatureReport> r = detached({old_->cert}, sig, kText + "x");
  EXPECT_EQ(r[0].verdict, Verdict::bad);
  EXPECT_NE(r[0].reason.find("does not match"), std::string::npos) << r[0].reason;
  EXPECT_EQ(r[1].verdict, Verdict::unknown);

  std::string cleartext = sign(signing::Form::cleartext, {&old_->as_signer, &new_->as_signer});
  cleartext.replace(cleartext.find("first line"), 10, "First line");
  r = verify_cleartext_each(std::vector<Certificate>{old_->cert, new_->cert}, cleartext);
  EXPECT_EQ(r[0].verdict, Verdict::bad);
  EXPECT_EQ(r[1].verdict, Verdict::bad);
}

TEST_F(VerifyEach, OneSignatureSwappedForAnotherKeysIsBad) {
  // A signature packet that claims the old key's fingerprint but was made by another key.
  std::string by_other = sign(signing::Form::detached_binary, {&other_->as_signer});
  std::string by_old = sign(signing::Form::detached_binary, {&old_->as_signer});
  std::vector<Packet> other = parse_packets(as_bytes(by_other));
  std::vector<Packet> old = parse_packets(as_bytes(by_old));
  Signature forged = parse_signature(other[0].body);
  Signature genuine = parse_signature(old[0].body);
  forged.hashed = genuine.hashed;  // the old key's issuer fingerprint, hashed
  forged.unhashed = genuine.unhashed;
  std::string packets(reinterpret_cast<const char*>(forged.packet().data()), forged.packet().size());
  std::vector<SignatureReport> r = detached({old_->cert}, packets + by_old);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].verdict, Verdict::bad);
  EXPECT_EQ(r[1].verdict, Verdict::good);
}

TEST_F(VerifyEach, RefusesWhatIsNotAListOfDocumentSignatures) {
  auto code_of = [](const std::string& data) {
    try {
      read_document_signatures(as_bytes(data));
    } catch (const Error& e) {
      return e.code();
    }
    return Errc::internal;
  };
  EXPECT_EQ(code_of(""), Errc::malformed);
  const std::string one = sign(signing::Form::detached_binary, {&old_->as_signer});
  // A signature followed by a user ID packet (tag 13).
  Bytes uid = encode_packet(PacketTag::user_id, as_bytes(std::string("x")));
  EXPECT_EQ(code_of(one + std::string(uid.begin(), uid.end())), Errc::malformed);
  // A certificate is not a signature list.
  Bytes cert = make_certificate(old_->key, "Key <key@example.org>", {});
  EXPECT_EQ(code_of(std::string(cert.begin(), cert.end())), Errc::malformed);
  // More signatures than a file may carry.
  std::string many;
  for (std::size_t i = 0; i <= kMaxSignatures; ++i) many += one;
  EXPECT_EQ(code_of(many), Errc::malformed);
  std::string most;
  for (std::size_t i = 0; i < kMaxSignatures; ++i) most += one;
  EXPECT_EQ(read_document_signatures(as_bytes(most)).size(), kMaxSignatures);
  // A cleartext block carrying a non-signature packet.
  std::string cleartext = sign(signing::Form::cleartext, {&old_->as_signer});
  EXPECT_THROW(verify_cleartext_each(std::vector<Certificate>{old_->cert},
                                     cleartext.substr(0, cleartext.find("-----BEGIN PGP SIGNATURE-----")) +
                                         armor(ArmorKind::signature, cert)),
               Error);
}

}  // namespace
}  // namespace catsign::openpgp
