// SPDX-License-Identifier: Apache-2.0
// Finding a key on a token: the private key a PKCS#11 URI names (RFC 7512 §2.3 object= and
// id=), checked for what catsign needs of it, with its public half read from the token.
#pragma once

#include <p11-kit/pkcs11.h>

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
  RsaPublicKey public_key;
};

// The one private key `uri` names. Throws Error(usage) when the URI names no key, when no key
// or more than one matches (listing the keys seen), Error(unsupported) when it is not RSA,
// Error(refused) when it has CKA_ALWAYS_AUTHENTICATE (it would want the PIN for every
// signature), TokenError when its public half can't be read.
FoundKey find_signing_key(Pkcs11Session& session, const Pkcs11Uri& uri, const std::string& token_label);

}  // namespace catsign::token
