// SPDX-License-Identifier: Apache-2.0
// When a key counts as sign-only: the mechanism rule (which offered mechanisms could use an
// EC key to decrypt or derive), and the verdict on real keys on a SoftHSM token, which offers
// ECDH: there an EC key with CKA_DECRYPT=true is not excused, and a key that is not sensitive
// or can derive never is.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <tuple>

#include "catsign/token/key_template.hpp"
#include "catsign/token/key_usage.hpp"
#include "catsign/token/pkcs11_module.hpp"
#include "softhsm_fixture.hpp"

namespace catsign::token {
namespace {

using catsign::testing::SoftHsmToken;

TEST(KeyUsageMechanisms, OnlyEcMechanismsThatDecryptDeriveOrUnwrapCount) {
  // What tpm2-pkcs11 offers: RSA decryption, AES, ECDSA; nothing that uses an EC key otherwise.
  std::vector<OfferedMechanism> tpm = {
      {CKM_RSA_PKCS, CKF_SIGN | CKF_DECRYPT | CKF_ENCRYPT}, {CKM_RSA_PKCS_OAEP, CKF_DECRYPT | CKF_ENCRYPT},
      {CKM_EC_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR},        {CKM_ECDSA, CKF_SIGN | CKF_VERIFY},
      {CKM_ECDSA_SHA256, CKF_SIGN | CKF_VERIFY},           {CKM_AES_CBC, CKF_ENCRYPT | CKF_DECRYPT},
      {CKM_RSA_AES_KEY_WRAP, CKF_WRAP | CKF_UNWRAP},       {CKM_SHA256_HMAC, CKF_SIGN | CKF_VERIFY}};
  EXPECT_FALSE(decrypts_or_derives_with_ec(tpm));
  EXPECT_FALSE(decrypts_or_derives_with_ec({}));
  for (const OfferedMechanism& m :
       {OfferedMechanism{CKM_ECDH1_DERIVE, CKF_DERIVE}, OfferedMechanism{CKM_ECDH1_COFACTOR_DERIVE, CKF_DERIVE},
        OfferedMechanism{CKM_ECMQV_DERIVE, CKF_DERIVE}, OfferedMechanism{CKM_ECDH_AES_KEY_WRAP, CKF_UNWRAP},
        OfferedMechanism{0x1060, CKF_DECRYPT},  // a later EC mechanism this code does not know
        OfferedMechanism{CKM_VENDOR_DEFINED | 0x42, CKF_DECRYPT}}) {
    std::vector<OfferedMechanism> with = tpm;
    with.push_back(m);
    EXPECT_TRUE(decrypts_or_derives_with_ec(with)) << std::hex << m.type;
    // Listed, but without a flag that uses the key: harmless.
    with.back().flags = CKF_SIGN;
    EXPECT_FALSE(decrypts_or_derives_with_ec(with)) << std::hex << m.type;
  }
}

class KeyUsageOnSoftHsm : public ::testing::Test {
 protected:
  KeyUsageOnSoftHsm()
      : module_(Pkcs11Module::load(SoftHsmToken::module_path())) {
    module_.initialize();
    session_.emplace(module_, module_.slots_with_token_label(hsm_.label()).front(), true);
    session_->login(hsm_.user_pin());
  }

  // A P-256 pair made with raw PKCS#11 and the private-key booleans given (the rest as catsign
  // asks), as another tool or a token deciding for itself could make it.
  CK_OBJECT_HANDLE ec_key(std::vector<std::pair<CK_ATTRIBUTE_TYPE, bool>> overrides) {
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    Bytes params = ec_params_der(KeyAlgorithm::nist_p256);
    std::vector<CK_ATTRIBUTE> pub = {{CKA_TOKEN, &no, 1}, {CKA_VERIFY, &yes, 1},
                                     {CKA_EC_PARAMS, params.data(), static_cast<CK_ULONG>(params.size())}};
    std::vector<std::pair<CK_ATTRIBUTE_TYPE, bool>> wanted;
    for (const BoolAttribute& a : sign_only_private_key()) wanted.emplace_back(a.type, a.value);
    for (auto& w : wanted)
      for (auto& o : overrides)
        if (o.first == w.first) w.second = o.second;
    std::vector<CK_ATTRIBUTE> priv;
    for (auto& w : wanted) priv.push_back({w.first, w.second ? &yes : &no, 1});
    CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    CK_OBJECT_HANDLE h_pub = 0, h_priv = 0;
    check_rv(session_->fn()->C_GenerateKeyPair(session_->handle(), &mech, pub.data(), static_cast<CK_ULONG>(pub.size()),
                                               priv.data(), static_cast<CK_ULONG>(priv.size()), &h_pub, &h_priv),
             "C_GenerateKeyPair");
    return h_priv;
  }

  SoftHsmToken hsm_;
  Pkcs11Module module_;
  std::optional<Pkcs11Session> session_;
};

TEST_F(KeyUsageOnSoftHsm, SignOnlyKeyIsSignOnly) {
  SignOnlyAssessment a = assess_sign_only(*session_, ec_key({}), CKK_EC);
  EXPECT_EQ(a.verdict, SignOnlyAssessment::Verdict::sign_only);
  EXPECT_TRUE(a.acceptable());
}

TEST_F(KeyUsageOnSoftHsm, EcDecryptIsNotExcusedWhereTheTokenOffersEcdh) {
  ASSERT_TRUE(decrypts_or_derives_with_ec(offered_mechanisms(*session_))) << "SoftHSM offers CKM_ECDH1_DERIVE";
  SignOnlyAssessment a = assess_sign_only(*session_, ec_key({{CKA_DECRYPT, true}}), CKK_EC);
  EXPECT_EQ(a.verdict, SignOnlyAssessment::Verdict::not_sign_only);
  EXPECT_TRUE(a.can_decrypt);
  EXPECT_EQ(a.reason, "CKA_DECRYPT=false");
}

TEST_F(KeyUsageOnSoftHsm, NothingButDecryptIsEverExcused) {
  // Each of these, with CKA_DECRYPT=true beside it, is a key that is not sign-only.
  for (auto [type, value, name] : {std::tuple{CKA_SENSITIVE, false, "CKA_SENSITIVE=true"},
                                   std::tuple{CKA_EXTRACTABLE, true, "CKA_EXTRACTABLE=false"},
                                   std::tuple{CKA_DERIVE, true, "CKA_DERIVE=false"},
                                   std::tuple{CKA_UNWRAP, true, "CKA_UNWRAP=false"}}) {
    SignOnlyAssessment a = assess_sign_only(*session_, ec_key({{CKA_DECRYPT, true}, {type, value}}), CKK_EC);
    EXPECT_EQ(a.verdict, SignOnlyAssessment::Verdict::not_sign_only) << name;
    EXPECT_FALSE(a.can_decrypt) << name;
    a = assess_sign_only(*session_, ec_key({{type, value}}), CKK_EC);
    EXPECT_EQ(a.verdict, SignOnlyAssessment::Verdict::not_sign_only) << name;
    EXPECT_EQ(a.reason, name);
  }
}

TEST(KeyUsageTemplate, TheRetryLeavesOutDecryptAndEncryptOnly) {
  KeyPairTemplate full = key_pair_template(KeySpec{KeyAlgorithm::nist_p256, 0});
  KeyPairTemplate retry = without_token_decided_usage(full);
  auto has = [](const std::vector<TemplateAttribute>& half, CK_ATTRIBUTE_TYPE type) {
    return std::any_of(half.begin(), half.end(), [&](const TemplateAttribute& a) { return a.type == type; });
  };
  EXPECT_TRUE(has(full.private_key, CKA_DECRYPT));
  EXPECT_FALSE(has(retry.private_key, CKA_DECRYPT));
  EXPECT_TRUE(has(full.public_key, CKA_ENCRYPT));
  EXPECT_FALSE(has(retry.public_key, CKA_ENCRYPT));
  EXPECT_EQ(retry.private_key.size(), full.private_key.size() - 1);
  EXPECT_EQ(retry.public_key.size(), full.public_key.size() - 1);
  for (CK_ATTRIBUTE_TYPE kept : {CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_SIGN, CKA_UNWRAP,
                                 CKA_DERIVE, CKA_SIGN_RECOVER, CKA_KEY_TYPE})
    EXPECT_TRUE(has(retry.private_key, kept)) << kept;
  EXPECT_TRUE(may_be_refused_template(CKR_GENERAL_ERROR));
  EXPECT_TRUE(may_be_refused_template(CKR_TEMPLATE_INCONSISTENT));
  EXPECT_FALSE(may_be_refused_template(CKR_USER_NOT_LOGGED_IN));
  EXPECT_FALSE(may_be_refused_template(CKR_MECHANISM_INVALID));
}

}  // namespace
}  // namespace catsign::token
