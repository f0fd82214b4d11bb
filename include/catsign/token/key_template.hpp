// SPDX-License-Identifier: Apache-2.0
// The attributes of the key pairs catsign generates, as one typed template per key type:
// keygen builds C_GenerateKeyPair's templates from it, and reads the same lists back from the
// new key pair, so what is asked for and what is checked can't drift apart (PKCS#11 v2.40
// §4.9, §2.1.4 RSA, §2.3.3 EC; PKCS#11 v3.0 §2.3.5 Edwards curves).
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catsign/key_material.hpp"

namespace catsign::token {

class Pkcs11Session;

struct BoolAttribute {
  CK_ATTRIBUTE_TYPE type;
  bool value;
  const char* name;  // "CKA_SIGN", for messages
};

// The private key signs and does nothing else, and never leaves the token.
std::span<const BoolAttribute> sign_only_private_key() noexcept;
// The public key: on the token, readable, verifies only.
std::span<const BoolAttribute> verify_only_public_key() noexcept;

// One attribute of a template, with its value as the token stores it (a CK_BBOOL, a CK_ULONG
// in host order, or a byte string such as DER EC parameters).
struct TemplateAttribute {
  enum class Kind { boolean, ulong, bytes };
  Kind kind;
  CK_ATTRIBUTE_TYPE type;
  const char* name;   // "CKA_EC_PARAMS"
  Bytes value;
  std::string shown;  // "false", "CKK_EC", "P-256", for messages
  // Read back but not asked for: what the token sets itself at generation and refuses in a
  // template (CKR_ATTRIBUTE_READ_ONLY), such as an EC private key's CKA_EC_PARAMS, which it
  // copies from the public half (PKCS#11 v2.40 §2.3.4, footnote 4 of its table).
  bool read_back_only = false;
};

// Everything keygen asks of a token for one key type.
struct KeyPairTemplate {
  KeySpec spec;
  CK_MECHANISM_TYPE mechanism;  // CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_EC_KEY_PAIR_GEN, CKM_EC_EDWARDS_KEY_PAIR_GEN
  std::vector<TemplateAttribute> public_key;
  std::vector<TemplateAttribute> private_key;
};

// The explicit sign-only template for `spec`: the sign-only and verify-only lists above, the
// key type (CKA_KEY_TYPE), and RSA: CKA_MODULUS_BITS and e = 65537 on the public half; EC and
// Ed25519: CKA_EC_PARAMS (the curve's DER OID) on both halves.
KeyPairTemplate key_pair_template(const KeySpec& spec);

// Whether C_GenerateKeyPair's `rv` may mean the token refused an attribute of the template
// that it decides itself (CKR_ATTRIBUTE_VALUE_INVALID, CKR_ATTRIBUTE_TYPE_INVALID,
// CKR_TEMPLATE_INCONSISTENT, PKCS#11 v2.40 §5.1.6; tpm2-pkcs11 says CKR_GENERAL_ERROR), so
// one more try with without_token_decided_usage() is worth it.
bool may_be_refused_template(CK_RV rv) noexcept;

// `t` without the two usage attributes a token may fix for itself by key type: CKA_DECRYPT on
// the private half and CKA_ENCRYPT on the public half. A TPM 2.0 key has a single decrypt
// bit for both (TPMA_OBJECT decrypt, TPM 2.0 Part 2 §8.3), and tpm2-pkcs11 sets it on every
// key and refuses a template that asks otherwise. Everything that keeps the key on the token
// and to signing stays asked for and read back: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE,
// CKA_EXTRACTABLE=false, CKA_SIGN, CKA_UNWRAP, CKA_DERIVE, CKA_SIGN_RECOVER, CKA_WRAP. What
// the token chose for CKA_DECRYPT is judged after generation (key_usage.hpp).
KeyPairTemplate without_token_decided_usage(const KeyPairTemplate& t);

// The DER EC parameters (a namedCurve OID, RFC 5480 §2.1.1.1) of a curve, and the curve of DER
// parameters a token reports (Ed25519 also as the PrintableString "edwards25519", PKCS#11 v3.0
// §2.3.5), or nullopt.
Bytes ec_params_der(KeyAlgorithm curve);
std::optional<KeyAlgorithm> curve_from_ec_params(ByteView der);

// CK_ATTRIBUTEs for a template; the values point into `attributes`, which must outlive them.
// The read_back_only attributes are left out.
std::vector<CK_ATTRIBUTE> to_template(std::span<const BoolAttribute> attributes);
std::vector<CK_ATTRIBUTE> to_template(std::vector<TemplateAttribute>& attributes);

// The first attribute that `object` does not hold with the wanted value (or does not report),
// as "CKA_DECRYPT=false", or nullopt when all of them hold.
std::optional<std::string> first_unmet(Pkcs11Session& session, CK_OBJECT_HANDLE object,
                                       std::span<const BoolAttribute> attributes);
std::optional<std::string> first_unmet(Pkcs11Session& session, CK_OBJECT_HANDLE object,
                                       const std::vector<TemplateAttribute>& attributes);

}  // namespace catsign::token
