// SPDX-License-Identifier: Apache-2.0
#include "memory_signer.hpp"

#include <botan/auto_rng.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>

namespace catsign::testing {

struct MemorySigner::Impl {
  Botan::AutoSeeded_RNG rng;
  std::unique_ptr<Botan::Private_Key> key;
};

MemorySigner::MemorySigner(std::size_t bits) : MemorySigner(KeyAlgorithm::rsa, bits) {}

MemorySigner::MemorySigner(KeyAlgorithm algorithm, std::size_t rsa_bits) : impl_(std::make_unique<Impl>()) {
  public_key_.algorithm = algorithm;
  switch (algorithm) {
    case KeyAlgorithm::rsa: {
      auto rsa = std::make_unique<Botan::RSA_PrivateKey>(impl_->rng, rsa_bits);
      auto n = Botan::BigInt::encode(rsa->get_n());
      auto e = Botan::BigInt::encode(rsa->get_e());
      public_key_.rsa.n.assign(n.begin(), n.end());
      public_key_.rsa.e.assign(e.begin(), e.end());
      impl_->key = std::move(rsa);
      break;
    }
    case KeyAlgorithm::nist_p256:
    case KeyAlgorithm::nist_p384: {
      Botan::EC_Group group(algorithm == KeyAlgorithm::nist_p256 ? "secp256r1" : "secp384r1");
      auto ec = std::make_unique<Botan::ECDSA_PrivateKey>(impl_->rng, group);
      auto point = ec->public_point().encode(Botan::PointGFp::UNCOMPRESSED);
      public_key_.point.assign(point.begin(), point.end());
      impl_->key = std::move(ec);
      break;
    }
    case KeyAlgorithm::ed25519: {
      auto ed = std::make_unique<Botan::Ed25519_PrivateKey>(impl_->rng);
      public_key_.point = ed->get_public_key();
      impl_->key = std::move(ed);
      break;
    }
  }
}

MemorySigner::~MemorySigner() = default;

Bytes MemorySigner::sign_digest(HashAlgorithm hash, ByteView digest) {
  std::string padding;
  switch (public_key_.algorithm) {
    case KeyAlgorithm::rsa: padding = std::string("EMSA3(Raw,") + botan_hash_name(hash) + ")"; break;
    case KeyAlgorithm::ed25519: padding = "Pure"; break;
    default: padding = "Raw"; break;
  }
  Botan::PK_Signer signer(*impl_->key, impl_->rng, padding, Botan::IEEE_1363);
  auto sig = signer.sign_message(digest.data(), digest.size(), impl_->rng);
  Bytes out(sig.begin(), sig.end());
  if (corrupt_) out.back() ^= 0x01;
  return out;
}

}  // namespace catsign::testing
