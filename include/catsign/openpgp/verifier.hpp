// SPDX-License-Identifier: Apache-2.0
// SPDX-License-Identifier: Apache-2.0
// Verification of a signature over a precomputed digest, for every key type catsign signs
// with: RSASSA-PKCS1-v1_5 (RFC 8017 §8.2.2) through OpenSSL (rsa_verifier.hpp), and with Botan
// ECDSA on P-256 and P-384
// (RFC 6637 §7, the digest truncated to the order by Botan as FIPS 186-5 says), and Ed25519
// (RFC 8032 §5.1.7, PureEdDSA with the digest as the message, RFC 9580 §5.2.4). Built once per
// key; safe to share between threads.
#pragma once

#include <memory>
#include <vector>

#include "catsign/key_material.hpp"

namespace catsign::openpgp {

class Verifier {
 public:
  // Error(malformed) when Botan refuses the key (an even modulus, a point not on the curve).
  explicit Verifier(const PublicKeyMaterial& key);
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  const PublicKeyMaterial& key() const noexcept;

  // `mpis` are the signature's MPIs as OpenPGP carries them (RSA: s; ECDSA: r, s; EdDSA: R,
  // S), leading zero octets dropped. False for a wrong count, a hash too short for the curve,
  // or a signature that does not verify.
  bool verify(HashAlgorithm hash, ByteView digest, const std::vector<Bytes>& mpis) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A signer's raw output (signer.hpp) as the signature's MPIs: RSA one, ECDSA and EdDSA two
// halves of equal length, each without leading zero octets (RFC 4880 §3.2). Error(token) when
// the length does not fit the key.
std::vector<Bytes> signature_mpis(const PublicKeyMaterial& key, ByteView raw);

}  // namespace catsign::openpgp
