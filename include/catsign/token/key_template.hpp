// SPDX-License-Identifier: Apache-2.0
// The attributes of the key pairs catsign generates, as one typed template: keygen builds
// C_GenerateKeyPair's templates from it, and reads the same list back from the new private
// key, so what is asked for and what is checked can't drift apart (PKCS#11 v2.40 §4.9).
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

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

// CK_ATTRIBUTEs for a template; the values point at static storage.
std::vector<CK_ATTRIBUTE> to_template(std::span<const BoolAttribute> attributes);

// The first attribute that `object` does not hold with the wanted value (or does not report),
// as "CKA_DECRYPT=false", or nullopt when all of them hold.
std::optional<std::string> first_unmet(Pkcs11Session& session, CK_OBJECT_HANDLE object,
                                       std::span<const BoolAttribute> attributes);

}  // namespace catsign::token
