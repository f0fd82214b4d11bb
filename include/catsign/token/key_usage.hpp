// SPDX-License-Identifier: Apache-2.0
// Whether a private key on a token signs and does nothing else: by its attributes (the
// sign-only list of key_template.hpp), and, where a token decides a usage attribute itself,
// by what the token can do with the key at all (its mechanism list, PKCS#11 v2.40 §5.5
// C_GetMechanismList and C_GetMechanismInfo).
//
// A TPM 2.0 key has one attribute bit for signing and one for decryption (TPMA_OBJECT sign and
// decrypt), and tpm2-pkcs11 makes its keys with both: it refuses CKA_DECRYPT=false and
// CKA_ENCRYPT=false in a key-pair template and reports CKA_DECRYPT=true. An EC key there still
// signs only, because the token offers no mechanism that decrypts or derives with an EC key
// (no ECDH, no ECMQV, no EC key wrap). An RSA key there really can decrypt (CKM_RSA_PKCS,
// CKM_RSA_PKCS_OAEP), and that is said, not hidden.
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace catsign::token {

class Pkcs11Session;

// A mechanism a token offers (C_GetMechanismList) with its CK_MECHANISM_INFO flags.
struct OfferedMechanism {
  CK_MECHANISM_TYPE type;
  CK_FLAGS flags;
};

// Every mechanism the session's token offers. A mechanism whose info can't be read counts
// as offering everything (CKF_DECRYPT | CKF_DERIVE | CKF_UNWRAP): unknown is not harmless.
std::vector<OfferedMechanism> offered_mechanisms(Pkcs11Session& session);

// True when one of `mechanisms` may decrypt, derive or unwrap with an EC key: one of the EC
// mechanisms of PKCS#11 v3.0 §2.3 (CKM_ECDH1_DERIVE, CKM_ECDH1_COFACTOR_DERIVE,
// CKM_ECMQV_DERIVE, CKM_ECDH_AES_KEY_WRAP, and any other code in the EC block 0x1040-0x107f
// except CKM_RSA_AES_KEY_WRAP) or a vendor-defined one, with CKF_DECRYPT, CKF_DERIVE or
// CKF_UNWRAP set.
bool decrypts_or_derives_with_ec(std::span<const OfferedMechanism> mechanisms);

struct SignOnlyAssessment {
  enum class Verdict {
    sign_only,            // every attribute of the sign-only list holds
    sign_only_in_effect,  // an EC key reports CKA_DECRYPT, but the token can't use it so
    not_sign_only,
  };
  Verdict verdict = Verdict::not_sign_only;
  // sign_only_in_effect: why ("the token offers no EC decryption or derivation");
  // not_sign_only: the first attribute that does not hold ("CKA_DECRYPT=false").
  std::string reason;
  bool can_decrypt = false;  // not_sign_only because CKA_DECRYPT is true and nothing else

  bool acceptable() const noexcept { return verdict != Verdict::not_sign_only; }
};

// The verdict on private key `key` of PKCS#11 key type `key_type` (CKK_RSA, CKK_EC,
// CKK_EC_EDWARDS). Only CKA_DECRYPT, which a token may set itself, is ever excused, and only
// for an EC or Edwards key on a token that offers no way to use it; a key that is not
// sensitive, extractable, unwraps or derives is never sign-only.
SignOnlyAssessment assess_sign_only(Pkcs11Session& session, CK_OBJECT_HANDLE key, CK_KEY_TYPE key_type);

}  // namespace catsign::token
