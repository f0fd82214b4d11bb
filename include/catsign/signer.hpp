// SPDX-License-Identifier: Apache-2.0
// The seam between OpenPGP and whatever holds the private key: the token in production, an
// in-memory key in unit tests.
#pragma once

#include "catsign/key_material.hpp"
#include "catsign/util/bytes.hpp"

namespace catsign {

class Signer {
 public:
  virtual ~Signer() = default;
  virtual const PublicKeyMaterial& public_key() const = 0;
  // Signs `digest`, which is already the hash of the message, and returns the raw signature:
  // RSA: the RSASSA-PKCS1-v1_5 signature (RFC 8017 §8.2), the signer adding the DigestInfo
  //      for `hash`, at modulus length.
  // ECDSA: r || s, each at the curve's order length (PKCS#11 v2.40 §2.3.1, CKM_ECDSA).
  // Ed25519: R || S, 64 octets, PureEdDSA over the digest as the message (CKM_EDDSA): OpenPGP
  //      signs the hash with EdDSA, not the document (RFC 9580 §5.2.4).
  virtual Bytes sign_digest(HashAlgorithm hash, ByteView digest) = 0;
};

}  // namespace catsign
