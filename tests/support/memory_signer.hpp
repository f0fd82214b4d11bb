// SPDX-License-Identifier: Apache-2.0
// An in-memory key behind the Signer seam (RSA, ECDSA P-256/P-384 or Ed25519), for tests of
// the OpenPGP layer without a token. Its raw signatures have the token's forms (signer.hpp).
#pragma once

#include <memory>

#include "catsign/signer.hpp"

namespace catsign::testing {

class MemorySigner : public Signer {
 public:
  explicit MemorySigner(std::size_t bits = 2048);  // RSA
  explicit MemorySigner(KeyAlgorithm algorithm, std::size_t rsa_bits = 2048);
  ~MemorySigner() override;
  const PublicKeyMaterial& public_key() const override { return public_key_; }
  Bytes sign_digest(HashAlgorithm hash, ByteView digest) override;
  // Makes the next signatures wrong, as a faulty token would.
  void corrupt_signatures(bool on) { corrupt_ = on; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  PublicKeyMaterial public_key_;
  bool corrupt_ = false;
};

}  // namespace catsign::testing
