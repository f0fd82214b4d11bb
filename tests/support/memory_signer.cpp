// SPDX-License-Identifier: Apache-2.0
#include "memory_signer.hpp"

#include <botan/auto_rng.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>

namespace catsign::testing {

struct MemorySigner::Impl {
  Botan::AutoSeeded_RNG rng;
  Botan::RSA_PrivateKey key;
  explicit Impl(std::size_t bits) : key(rng, bits) {}
};

MemorySigner::MemorySigner(std::size_t bits) : impl_(std::make_unique<Impl>(bits)) {
  auto n = Botan::BigInt::encode(impl_->key.get_n());
  auto e = Botan::BigInt::encode(impl_->key.get_e());
  public_key_.n.assign(n.begin(), n.end());
  public_key_.e.assign(e.begin(), e.end());
}

MemorySigner::~MemorySigner() = default;

Bytes MemorySigner::sign_digest(HashAlgorithm hash, ByteView digest) {
  Botan::PK_Signer signer(impl_->key, impl_->rng,
                          hash == HashAlgorithm::sha512 ? "EMSA3(Raw,SHA-512)" : "EMSA3(Raw,SHA-256)");
  auto sig = signer.sign_message(digest.data(), digest.size(), impl_->rng);
  Bytes out(sig.begin(), sig.end());
  if (corrupt_) out.back() ^= 0x01;
  return out;
}

}  // namespace catsign::testing
