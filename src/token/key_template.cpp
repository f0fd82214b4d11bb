// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/key_template.hpp"

#include <array>

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

}  // namespace

std::span<const BoolAttribute> sign_only_private_key() noexcept { return kPrivate; }
std::span<const BoolAttribute> verify_only_public_key() noexcept { return kPublic; }

std::vector<CK_ATTRIBUTE> to_template(std::span<const BoolAttribute> attributes) {
  std::vector<CK_ATTRIBUTE> out;
  out.reserve(attributes.size());
  for (const BoolAttribute& a : attributes)
    out.push_back(CK_ATTRIBUTE{a.type, a.value ? &g_true : &g_false, sizeof(CK_BBOOL)});
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

}  // namespace catsign::token
