// SPDX-License-Identifier: Apache-2.0
// Finding a key on a token: the private key a PKCS#11 URI names (RFC 7512 §2.3 object= and
// id=), checked for what catsign needs of it, with its public half read from the token.
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>
#include <string>
#include <vector>

#include "catsign/signer.hpp"
#include "catsign/token/pkcs11_uri.hpp"

namespace catsign::token {

class Pkcs11Session;

struct KeyInfo {
  std::string label;
  Bytes id;
};

// Every private key the session can see (after login: private keys are private objects).
std::vector<KeyInfo> list_private_keys(Pkcs11Session& session);

struct FoundKey {
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;  // valid in every session of this application
  std::string name;                             // its label, or "id <hex>" without one
  std::string label;
  Bytes id;
  PublicKeyMaterial public_key;
  // What an operator should hear about the key before trusting it with signatures: a key that
  // can also decrypt or unwrap (made by another tool) turns every decryption oracle on the
  // token into a signing one (docs/DESIGN.md "Key template").
  std::vector<std::string> warnings;
};

// The public half of the private key `key`: RSA n and e (from the private object, or the
// public one with the same CKA_ID), EC and Ed25519 the curve from CKA_EC_PARAMS and the point
// from the public object's CKA_EC_POINT, unwrapped from its DER OCTET STRING (PKCS#11 v2.40
// §2.3.3). Error(unsupported) for another key type or curve; TokenError when it can't be read.
PublicKeyMaterial read_public_key(Pkcs11Session& session, CK_OBJECT_HANDLE key, ByteView id,
                                  const std::string& name, const std::string& token_label);

// What `catsign keys` shows of each private key on a token.
struct KeyDetails {
  std::string label;
  Bytes id;
  std::optional<PublicKeyMaterial> public_key;  // nullopt: unsupported or unreadable
  std::string type;                             // "RSA-3072", "NIST P-256", or why unknown
  std::optional<std::string> not_sign_only;     // the first sign-only attribute it lacks
  // Sign-only in effect though an attribute says otherwise, and why (key_usage.hpp): "the
  // token offers no EC decryption or derivation".
  std::optional<std::string> sign_only_because;
  bool can_decrypt = false;  // not sign-only because CKA_DECRYPT is true, and nothing else
  bool always_authenticate = false;
};
std::vector<KeyDetails> describe_private_keys(Pkcs11Session& session, const std::string& token_label);

// The one private key `uri` names. Throws Error(usage) when the URI names no key, when no key
// or more than one matches (listing the keys seen), Error(unsupported) when it is not RSA,
// ECDSA on P-256 or P-384 or Ed25519,
// Error(refused) when it has CKA_ALWAYS_AUTHENTICATE (it would want the PIN for every
// signature), TokenError when its public half can't be read.
FoundKey find_signing_key(Pkcs11Session& session, const Pkcs11Uri& uri, const std::string& token_label);

}  // namespace catsign::token
