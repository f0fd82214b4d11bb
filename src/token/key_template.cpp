// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/key_template.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "catsign/error.hpp"
#include "catsign/token/pkcs11_module.hpp"

namespace catsign::token {

namespace {

// PKCS#11 templates take non-const pointers; C_GenerateKeyPair never writes through them.
CK_BBOOL g_true = CK_TRUE;
CK_BBOOL g_false = CK_FALSE;

// libp11's own keygen always allows decrypt and unwrap (docs/DESIGN.md "Facts"): catsign
// writes every attribute that matters explicitly instead.
constexpr std::array<BoolAttribute, 9> kPrivate = {{
    {CKA_TOKEN, true, "CKA_TOKEN"},
    {CKA_PRIVATE, true, "CKA_PRIVATE"},
    {CKA_SENSITIVE, true, "CKA_SENSITIVE"},
    {CKA_EXTRACTABLE, false, "CKA_EXTRACTABLE"},
    {CKA_SIGN, true, "CKA_SIGN"},
    {CKA_DECRYPT, false, "CKA_DECRYPT"},
    {CKA_UNWRAP, false, "CKA_UNWRAP"},
    {CKA_DERIVE, false, "CKA_DERIVE"},
    {CKA_SIGN_RECOVER, false, "CKA_SIGN_RECOVER"},
}};

constexpr std::array<BoolAttribute, 5> kPublic = {{
    {CKA_TOKEN, true, "CKA_TOKEN"},
    {CKA_PRIVATE, false, "CKA_PRIVATE"},
    {CKA_VERIFY, true, "CKA_VERIFY"},
    {CKA_ENCRYPT, false, "CKA_ENCRYPT"},
    {CKA_WRAP, false, "CKA_WRAP"},
}};

// DER namedCurve OIDs (RFC 5480 §2.1.1.1; RFC 8410 §3 for Ed25519, id-Ed25519 1.3.101.112).
constexpr std::uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr std::uint8_t kP384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
constexpr std::uint8_t kEd25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
// PKCS#11 v3.0 §2.3.5 also allows the curve name as a PrintableString.
constexpr std::uint8_t kEd25519Name[] = {0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'};

TemplateAttribute from_bool(const BoolAttribute& a) {
  return {TemplateAttribute::Kind::boolean, a.type, a.name, Bytes{static_cast<std::uint8_t>(a.value ? CK_TRUE : CK_FALSE)}, a.value ? "true" : "false"};
}

TemplateAttribute ulong_attribute(CK_ATTRIBUTE_TYPE type, const char* name, CK_ULONG value, std::string shown) {
  Bytes v(sizeof value);
  std::memcpy(v.data(), &value, sizeof value);
  return {TemplateAttribute::Kind::ulong, type, name, std::move(v), std::move(shown)};
}

bool equal(ByteView a, ByteView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

}  // namespace

std::span<const BoolAttribute> sign_only_private_key() noexcept { return kPrivate; }
std::span<const BoolAttribute> verify_only_public_key() noexcept { return kPublic; }

Bytes ec_params_der(KeyAlgorithm curve) {
  switch (curve) {
    case KeyAlgorithm::nist_p256: return Bytes(std::begin(kP256), std::end(kP256));
    case KeyAlgorithm::nist_p384: return Bytes(std::begin(kP384), std::end(kP384));
    case KeyAlgorithm::ed25519: return Bytes(std::begin(kEd25519), std::end(kEd25519));
    case KeyAlgorithm::rsa: break;
  }
  throw Error(Errc::internal, "RSA has no EC parameters");
}

std::optional<KeyAlgorithm> curve_from_ec_params(ByteView der) {
  if (equal(der, kP256)) return KeyAlgorithm::nist_p256;
  if (equal(der, kP384)) return KeyAlgorithm::nist_p384;
  if (equal(der, kEd25519) || equal(der, kEd25519Name)) return KeyAlgorithm::ed25519;
  return std::nullopt;
}

KeyPairTemplate key_pair_template(const KeySpec& spec) {
  KeyPairTemplate t;
  t.spec = spec;
  for (const BoolAttribute& a : kPublic) t.public_key.push_back(from_bool(a));
  for (const BoolAttribute& a : kPrivate) t.private_key.push_back(from_bool(a));
  switch (spec.algorithm) {
    case KeyAlgorithm::rsa: {
      if (spec.rsa_bits != 2048 && spec.rsa_bits != 3072 && spec.rsa_bits != 4096)
        throw Error(Errc::usage, "RSA key size must be 2048, 3072 or 4096 bits, not " + std::to_string(spec.rsa_bits));
      t.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
      for (auto* half : {&t.public_key, &t.private_key})
        half->push_back(ulong_attribute(CKA_KEY_TYPE, "CKA_KEY_TYPE", CKK_RSA, "CKK_RSA"));
      t.public_key.push_back(ulong_attribute(CKA_MODULUS_BITS, "CKA_MODULUS_BITS", spec.rsa_bits,
                                             std::to_string(spec.rsa_bits)));
      t.public_key.push_back({TemplateAttribute::Kind::bytes, CKA_PUBLIC_EXPONENT, "CKA_PUBLIC_EXPONENT", Bytes{0x01, 0x00, 0x01}, "65537"});
      break;
    }
    case KeyAlgorithm::nist_p256:
    case KeyAlgorithm::nist_p384:
    case KeyAlgorithm::ed25519: {
      const bool edwards = spec.algorithm == KeyAlgorithm::ed25519;
      t.mechanism = edwards ? CKM_EC_EDWARDS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN;
      const std::string curve = PublicKeyMaterial{spec.algorithm, {}, {}}.describe();
      for (auto* half : {&t.public_key, &t.private_key}) {
        half->push_back(edwards ? ulong_attribute(CKA_KEY_TYPE, "CKA_KEY_TYPE", CKK_EC_EDWARDS, "CKK_EC_EDWARDS")
                                : ulong_attribute(CKA_KEY_TYPE, "CKA_KEY_TYPE", CKK_EC, "CKK_EC"));
        half->push_back({TemplateAttribute::Kind::bytes, CKA_EC_PARAMS, "CKA_EC_PARAMS", ec_params_der(spec.algorithm),
                         curve, half == &t.private_key});
      }
      break;
    }
  }
  return t;
}

bool may_be_refused_template(CK_RV rv) noexcept {
  return rv == CKR_GENERAL_ERROR || rv == CKR_ATTRIBUTE_VALUE_INVALID || rv == CKR_TEMPLATE_INCONSISTENT ||
         rv == CKR_ATTRIBUTE_TYPE_INVALID;
}

KeyPairTemplate without_token_decided_usage(const KeyPairTemplate& t) {
  KeyPairTemplate out = t;
  std::erase_if(out.private_key, [](const TemplateAttribute& a) { return a.type == CKA_DECRYPT; });
  std::erase_if(out.public_key, [](const TemplateAttribute& a) { return a.type == CKA_ENCRYPT; });
  return out;
}

std::vector<CK_ATTRIBUTE> to_template(std::span<const BoolAttribute> attributes) {
  std::vector<CK_ATTRIBUTE> out;
  out.reserve(attributes.size());
  for (const BoolAttribute& a : attributes)
    out.push_back(CK_ATTRIBUTE{a.type, a.value ? &g_true : &g_false, sizeof(CK_BBOOL)});
  return out;
}

std::vector<CK_ATTRIBUTE> to_template(std::vector<TemplateAttribute>& attributes) {
  std::vector<CK_ATTRIBUTE> out;
  out.reserve(attributes.size());
  for (TemplateAttribute& a : attributes)
    if (!a.read_back_only)
      out.push_back(CK_ATTRIBUTE{a.type, a.value.data(), static_cast<CK_ULONG>(a.value.size())});
  return out;
}

std::optional<std::string> first_unmet(Pkcs11Session& session, CK_OBJECT_HANDLE object,
                                       std::span<const BoolAttribute> attributes) {
  for (const BoolAttribute& a : attributes) {
    std::optional<bool> have = session.get_bool(object, a.type);
    if (!have || *have != a.value) return std::string(a.name) + "=" + (a.value ? "true" : "false");
  }
  return std::nullopt;
}

std::optional<std::string> first_unmet(Pkcs11Session& session, CK_OBJECT_HANDLE object,
                                       const std::vector<TemplateAttribute>& attributes) {
  for (const TemplateAttribute& a : attributes) {
    bool met = false;
    if (a.kind == TemplateAttribute::Kind::boolean) {
      std::optional<bool> have = session.get_bool(object, a.type);
      met = have && *have == (a.value[0] != CK_FALSE);
    } else if (a.kind == TemplateAttribute::Kind::ulong) {
      CK_ULONG want = 0;
      std::memcpy(&want, a.value.data(), sizeof want);
      met = session.get_ulong(object, a.type) == want;
    } else {
      std::optional<Bytes> have = session.get_bytes(object, a.type);
      if (a.type == CKA_PUBLIC_EXPONENT && have) *have = without_leading_zeros(*have);
      // A token may report a curve in another of its allowed encodings (an OID or a name).
      if (a.type == CKA_EC_PARAMS && have) {
        met = curve_from_ec_params(*have) == curve_from_ec_params(a.value);
      } else {
        met = have && *have == a.value;
      }
    }
    if (!met) return std::string(a.name) + "=" + a.shown;
  }
  return std::nullopt;
}

}  // namespace catsign::token
