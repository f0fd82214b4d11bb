// SPDX-License-Identifier: Apache-2.0
// EC and Ed25519 keys on a throwaway SoftHSM token through catsign's token layer: the template
// read back with raw PKCS#11 (sign only, the curve asked for), signatures from CKM_ECDSA and
// CKM_EDDSA that an independent Botan verifier accepts, and the key record beside the key.
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/hash.h>
#include <botan/pubkey.h>
#include <gtest/gtest.h>

#include "catsign/error.hpp"
#include "catsign/token/key_record.hpp"
#include "catsign/token/key_template.hpp"
#include "catsign/token/pkcs11_module.hpp"
#include "catsign/token/token.hpp"
#include "softhsm_fixture.hpp"

namespace catsign::token {
namespace {

using catsign::testing::SoftHsmToken;

Bytes digest_of(HashAlgorithm h, std::string_view message) {
  auto hash = Botan::HashFunction::create_or_throw(botan_hash_name(h));
  hash->update(reinterpret_cast<const std::uint8_t*>(message.data()), message.size());
  auto d = hash->final();
  return Bytes(d.begin(), d.end());
}

// Botan alone, from the point the token reported.
bool botan_verifies(const PublicKeyMaterial& k, const Bytes& digest, const Bytes& sig) {
  if (k.algorithm == KeyAlgorithm::ed25519) {
    Botan::Ed25519_PublicKey key(k.point.data(), k.point.size());
    return Botan::PK_Verifier(key, "Pure").verify_message(digest.data(), digest.size(), sig.data(), sig.size());
  }
  Botan::EC_Group group(k.algorithm == KeyAlgorithm::nist_p256 ? "secp256r1" : "secp384r1");
  Botan::ECDSA_PublicKey key(group, group.OS2ECP(k.point.data(), k.point.size()));
  return Botan::PK_Verifier(key, "Raw", Botan::IEEE_1363)
      .verify_message(digest.data(), digest.size(), sig.data(), sig.size());
}

struct Curve {
  KeyAlgorithm algorithm;
  const char* name;
  CK_KEY_TYPE key_type;
  HashAlgorithm hash;
  std::size_t signature_size;
};
const Curve kCurves[] = {
    {KeyAlgorithm::nist_p256, "P256", CKK_EC, HashAlgorithm::sha256, 64},
    {KeyAlgorithm::nist_p384, "P384", CKK_EC, HashAlgorithm::sha384, 96},
    {KeyAlgorithm::ed25519, "Ed25519", CKK_EC_EDWARDS, HashAlgorithm::sha256, 64},
};

class TokenKeyTypes : public ::testing::TestWithParam<Curve> {};

TEST_P(TokenKeyTypes, GeneratedSignOnlyAndSigns) {
  SoftHsmToken hsm;
  PublicKeyMaterial pub;
  {
    Token t = Token::open(hsm.module_path(), hsm.key_uri("k"));
    t.login(hsm.user_pin_secure());
    pub = t.generate_key("k", KeySpec{GetParam().algorithm, 0}, 1700000000, 86400);
    EXPECT_EQ(pub.algorithm, GetParam().algorithm);
    Signer& s = t.signer();
    EXPECT_EQ(s.public_key(), pub);
    for (int i = 0; i < 20; ++i) {
      Bytes digest = digest_of(GetParam().hash, "catalog " + std::to_string(i));
      Bytes sig = s.sign_digest(GetParam().hash, digest);
      EXPECT_EQ(sig.size(), GetParam().signature_size);
      EXPECT_TRUE(botan_verifies(pub, digest, sig)) << i;
      EXPECT_FALSE(botan_verifies(pub, digest_of(GetParam().hash, "other"), sig));
    }
    KeyInfo info = t.key_info(Pkcs11Uri::parse(hsm.key_uri("k")));
    std::optional<KeyRecord> record = t.key_record(info.label, info.id);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->created, 1700000000u);
    EXPECT_EQ(record->expiration, 86400u);
    EXPECT_EQ(record->id, info.id);
    // Replaced, not duplicated.
    t.write_key_record("k", KeyRecord{info.id, 1700000000, 2 * 86400});
    EXPECT_EQ(t.key_record(info.label, info.id)->expiration, 2u * 86400);
    // Another key's id does not match this record.
    EXPECT_FALSE(t.key_record(info.label, Bytes{1, 2, 3}));
    auto details = t.key_details();
    ASSERT_EQ(details.size(), 1u);
    EXPECT_EQ(details[0].public_key, pub);
    EXPECT_FALSE(details[0].not_sign_only);
    EXPECT_FALSE(details[0].always_authenticate);
  }
  // Raw PKCS#11, not the template code, reads both halves back.
  Pkcs11Module m = Pkcs11Module::load(hsm.module_path());
  m.initialize();
  Pkcs11Session s(m, m.slots_with_token_label(hsm.label()).front(), false);
  s.login(hsm.user_pin());
  std::string label = "k";
  CK_OBJECT_CLASS priv_cls = CKO_PRIVATE_KEY, pub_cls = CKO_PUBLIC_KEY, data_cls = CKO_DATA;
  auto priv = s.find({{CKA_CLASS, &priv_cls, sizeof priv_cls}, {CKA_LABEL, label.data(), label.size()}});
  ASSERT_EQ(priv.size(), 1u);
  EXPECT_EQ(s.get_ulong(priv[0], CKA_KEY_TYPE), GetParam().key_type);
  for (auto [attr, want] : {std::pair{CKA_SIGN, true}, {CKA_SENSITIVE, true}, {CKA_PRIVATE, true},
                            {CKA_ALWAYS_SENSITIVE, true}, {CKA_NEVER_EXTRACTABLE, true}, {CKA_EXTRACTABLE, false},
                            {CKA_DECRYPT, false}, {CKA_UNWRAP, false}, {CKA_DERIVE, false}, {CKA_SIGN_RECOVER, false}})
    EXPECT_EQ(s.get_bool(priv[0], attr), want) << "attribute 0x" << std::hex << attr;
  auto pubs = s.find({{CKA_CLASS, &pub_cls, sizeof pub_cls}, {CKA_LABEL, label.data(), label.size()}});
  ASSERT_EQ(pubs.size(), 1u);
  EXPECT_EQ(s.get_bool(pubs[0], CKA_VERIFY), true);
  EXPECT_EQ(s.get_bool(pubs[0], CKA_ENCRYPT), false);
  EXPECT_EQ(s.get_bool(pubs[0], CKA_WRAP), false);
  EXPECT_EQ(curve_from_ec_params(*s.get_bytes(pubs[0], CKA_EC_PARAMS)), GetParam().algorithm);
  // The record is a private data object: invisible without a login.
  auto data = s.find({{CKA_CLASS, &data_cls, sizeof data_cls}, {CKA_LABEL, label.data(), label.size()}});
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(s.get_bool(data[0], CKA_PRIVATE), true);
}

INSTANTIATE_TEST_SUITE_P(Curves, TokenKeyTypes, ::testing::ValuesIn(kCurves),
                         [](const ::testing::TestParamInfo<Curve>& p) { return std::string(p.param.name); });

TEST(KeyRecord, RoundTripsAndRefusesEverythingElse) {
  KeyRecord r{Bytes{0xde, 0xad, 0x01}, 1700000000, 3600};
  EXPECT_EQ(encode_key_record(r), "catsign-key 1\nid=dead01\ncreated=1700000000\nexpiration=3600\n");
  EXPECT_EQ(parse_key_record(encode_key_record(r)), r);
  for (const char* bad : {
           "",
           "catsign-key 2\nid=dead01\ncreated=1700000000\nexpiration=0\n",
           "catsign-key 1\nid=DEAD01\ncreated=1700000000\nexpiration=0\n",   // not lowercase
           "catsign-key 1\nid=dea\ncreated=1700000000\nexpiration=0\n",      // odd length
           "catsign-key 1\nid=zz\ncreated=1700000000\nexpiration=0\n",
           "catsign-key 1\nid=\ncreated=1700000000\nexpiration=0\n",
           "catsign-key 1\nid=dead01\ncreated=0\nexpiration=0\n",            // no creation time
           "catsign-key 1\nid=dead01\ncreated=01700000000\nexpiration=0\n",  // leading zero
           "catsign-key 1\nid=dead01\ncreated=-1\nexpiration=0\n",
           "catsign-key 1\nid=dead01\ncreated=4294967296\nexpiration=0\n",   // beyond 32 bits
           "catsign-key 1\nid=dead01\ncreated=1700000000\nexpiration=0",     // unterminated
           "catsign-key 1\nid=dead01\ncreated=1700000000\nexpiration=0\nmore\n",
           "catsign-key 1\nid=dead01\nexpiration=0\ncreated=1700000000\n",   // order
           "catsign-key 1\nid=+d\ncreated=1700000000\nexpiration=0\n",
       }) {
    try {
      parse_key_record(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::malformed) << bad;
      EXPECT_NE(std::string(e.what()).find("key record"), std::string::npos) << e.what();
    }
  }
}

TEST(KeyTemplate, EveryTypeIsSignOnlyAndNamesItsCurve) {
  for (KeySpec spec : {KeySpec{KeyAlgorithm::rsa, 3072}, KeySpec{KeyAlgorithm::nist_p256, 0},
                       KeySpec{KeyAlgorithm::nist_p384, 0}, KeySpec{KeyAlgorithm::ed25519, 0}}) {
    KeyPairTemplate t = key_pair_template(spec);
    auto has = [](const std::vector<TemplateAttribute>& list, CK_ATTRIBUTE_TYPE type) {
      return std::any_of(list.begin(), list.end(), [&](const TemplateAttribute& a) { return a.type == type; });
    };
    for (CK_ATTRIBUTE_TYPE a : {CKA_SIGN, CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE, CKA_SIGN_RECOVER, CKA_EXTRACTABLE,
                                CKA_SENSITIVE, CKA_KEY_TYPE})
      EXPECT_TRUE(has(t.private_key, a)) << key_spec_name(spec) << " attribute 0x" << std::hex << a;
    EXPECT_EQ(has(t.public_key, CKA_EC_PARAMS), spec.algorithm != KeyAlgorithm::rsa);
    EXPECT_EQ(has(t.public_key, CKA_MODULUS_BITS), spec.algorithm == KeyAlgorithm::rsa);
    // What a template asks for never includes what the token must set itself.
    std::vector<TemplateAttribute> priv = t.private_key;
    for (const CK_ATTRIBUTE& a : to_template(priv)) EXPECT_NE(a.type, static_cast<CK_ATTRIBUTE_TYPE>(CKA_EC_PARAMS));
  }
  EXPECT_THROW(key_pair_template(KeySpec{KeyAlgorithm::rsa, 1024}), Error);
  EXPECT_THROW(parse_key_spec("nistp521"), Error);
  EXPECT_EQ(parse_key_spec("nistp384").algorithm, KeyAlgorithm::nist_p384);
  // Both encodings of Ed25519 a token may report, and no other curve.
  EXPECT_EQ(curve_from_ec_params(Bytes{0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'}),
            KeyAlgorithm::ed25519);
  EXPECT_FALSE(curve_from_ec_params(Bytes{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}));  // P-521
}

}  // namespace
}  // namespace catsign::token
