// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/key_usage.hpp"

#include <algorithm>

#include "catsign/token/key_template.hpp"
#include "catsign/token/pkcs11_module.hpp"

namespace catsign::token {

namespace {

constexpr CK_FLAGS kUses = CKF_DECRYPT | CKF_DERIVE | CKF_UNWRAP;

// The block PKCS#11 v3.0 §2.3 gives elliptic-curve mechanisms (CKM_EC_KEY_PAIR_GEN 0x1040 to
// CKM_EDDSA 0x1057, with room for more up to the AES block at 0x1080); CKM_RSA_AES_KEY_WRAP
// sits in it but takes RSA keys.
bool ec_mechanism(CK_MECHANISM_TYPE type) {
  return type >= CKM_EC_KEY_PAIR_GEN && type < 0x1080UL && type != CKM_RSA_AES_KEY_WRAP;
}

}  // namespace

std::vector<OfferedMechanism> offered_mechanisms(Pkcs11Session& session) {
  CK_FUNCTION_LIST* fn = session.fn();
  CK_ULONG count = 0;
  check_rv(fn->C_GetMechanismList(session.slot(), nullptr, &count), "C_GetMechanismList");
  std::vector<CK_MECHANISM_TYPE> types(count);
  check_rv(fn->C_GetMechanismList(session.slot(), types.data(), &count), "C_GetMechanismList");
  types.resize(count);
  std::vector<OfferedMechanism> out;
  out.reserve(types.size());
  for (CK_MECHANISM_TYPE type : types) {
    CK_MECHANISM_INFO info{};
    const bool known = fn->C_GetMechanismInfo(session.slot(), type, &info) == CKR_OK;
    out.push_back({type, known ? info.flags : kUses});
  }
  return out;
}

bool decrypts_or_derives_with_ec(std::span<const OfferedMechanism> mechanisms) {
  return std::any_of(mechanisms.begin(), mechanisms.end(), [](const OfferedMechanism& m) {
    return (m.flags & kUses) != 0 && (ec_mechanism(m.type) || m.type >= CKM_VENDOR_DEFINED);
  });
}

SignOnlyAssessment assess_sign_only(Pkcs11Session& session, CK_OBJECT_HANDLE key, CK_KEY_TYPE key_type) {
  SignOnlyAssessment a;
  std::vector<const BoolAttribute*> unmet;
  bool decrypts = false;
  for (const BoolAttribute& attr : sign_only_private_key()) {
    std::optional<bool> have = session.get_bool(key, attr.type);
    if (have && *have == attr.value) continue;
    unmet.push_back(&attr);
    if (attr.type == CKA_DECRYPT && have) decrypts = true;
  }
  if (unmet.empty()) {
    a.verdict = SignOnlyAssessment::Verdict::sign_only;
    return a;
  }
  a.reason = std::string(unmet.front()->name) + "=" + (unmet.front()->value ? "true" : "false");
  // CKA_DECRYPT=true and everything else as asked: the one usage a token may decide itself.
  if (unmet.size() == 1 && decrypts) {
    const bool ec = key_type == CKK_EC || key_type == CKK_EC_EDWARDS;
    if (ec && !decrypts_or_derives_with_ec(offered_mechanisms(session))) {
      a.verdict = SignOnlyAssessment::Verdict::sign_only_in_effect;
      a.reason = "the token offers no EC decryption or derivation";
      return a;
    }
    a.can_decrypt = true;
  }
  a.verdict = SignOnlyAssessment::Verdict::not_sign_only;
  return a;
}

}  // namespace catsign::token
