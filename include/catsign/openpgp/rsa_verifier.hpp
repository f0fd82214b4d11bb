// SPDX-License-Identifier: Apache-2.0
// RSASSA-PKCS1-v1_5 verification of a precomputed digest (RFC 8017 §8.2.2), through OpenSSL.
// Built once per key; safe to share between threads, which verify at once. Verifier
// (verifier.hpp) uses it for RSA keys.
#pragma once

#include <memory>

#include "catsign/key_material.hpp"

namespace catsign::openpgp {

class RsaVerifier {
 public:
  explicit RsaVerifier(const RsaPublicKey& key);
  ~RsaVerifier();
  RsaVerifier(const RsaVerifier&) = delete;
  RsaVerifier& operator=(const RsaVerifier&) = delete;

  // `signature` may omit leading zero octets (as OpenPGP MPIs do).
  bool verify(HashAlgorithm hash, ByteView digest, ByteView signature) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catsign::openpgp
