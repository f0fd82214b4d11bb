// SPDX-License-Identifier: Apache-2.0
#include "catsign/openpgp/verifier.hpp"

#include <botan/bigint.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/exceptn.h>
#include <botan/pubkey.h>

#include <mutex>

#include "catsign/error.hpp"
#include "catsign/openpgp/rsa_verifier.hpp"

namespace catsign::openpgp {

namespace {

std::unique_ptr<Botan::Public_Key> botan_key(const PublicKeyMaterial& k) {
  switch (k.algorithm) {
    case KeyAlgorithm::rsa:
      break;  // OpenSSL's (rsa_verifier.hpp)
    case KeyAlgorithm::nist_p256:
    case KeyAlgorithm::nist_p384: {
      Botan::EC_Group group(k.algorithm == KeyAlgorithm::nist_p256 ? "secp256r1" : "secp384r1");
      return std::make_unique<Botan::ECDSA_PublicKey>(group, group.OS2ECP(k.point.data(), k.point.size()));
    }
    case KeyAlgorithm::ed25519:
      if (k.point.size() != 32) throw Error(Errc::malformed, "an Ed25519 public key has 32 octets");
      return std::make_unique<Botan::Ed25519_PublicKey>(k.point.data(), k.point.size());
  }
  throw Error(Errc::internal, "no Botan key for this algorithm");
}

// Left-pads `v` to `size` octets; false when it is longer.
bool pad_to(Bytes& out, ByteView v, std::size_t size) {
  ByteView s = strip_leading_zeros(v);
  if (s.size() > size) return false;
  out.insert(out.end(), size - s.size(), 0);
  out.insert(out.end(), s.begin(), s.end());
  return true;
}

}  // namespace

struct Verifier::Impl {
  PublicKeyMaterial material;
  // RSA: OpenSSL, a context per call, so threads verify at once (check-catalog verifies one
  // signature per package on every core).
  std::unique_ptr<RsaVerifier> rsa;
  // ECDSA and Ed25519: Botan's PK_Verifier keeps state between calls, so it is used behind the
  // mutex.
  std::unique_ptr<Botan::Public_Key> key;
  mutable std::mutex mutex;
  std::unique_ptr<Botan::PK_Verifier> raw;
};

Verifier::Verifier(const PublicKeyMaterial& key) : impl_(std::make_unique<Impl>()) {
  impl_->material = key;
  // Botan refuses some malformed keys (an even modulus, a point off the curve) by throwing its
  // own exceptions; they become catsign's one error type here, so no key a file supplies can
  // end the process.
  if (key.algorithm == KeyAlgorithm::rsa) {
    impl_->rsa = std::make_unique<RsaVerifier>(key.rsa);  // Error(malformed) itself
    return;
  }
  try {
    impl_->key = botan_key(key);
    if (key.algorithm == KeyAlgorithm::ed25519) {
      impl_->raw = std::make_unique<Botan::PK_Verifier>(*impl_->key, "Pure");
    } else {
      impl_->raw = std::make_unique<Botan::PK_Verifier>(*impl_->key, "Raw", Botan::IEEE_1363);
    }
  } catch (const Botan::Exception& e) {
    throw Error(Errc::malformed, "the " + key.describe() + " key is not usable: " + e.what());
  }
}
Verifier::~Verifier() = default;

const PublicKeyMaterial& Verifier::key() const noexcept { return impl_->material; }

bool Verifier::verify(HashAlgorithm hash, ByteView digest, const std::vector<Bytes>& mpis) const {
  const PublicKeyMaterial& k = impl_->material;
  if (digest.size() != hash_size(hash) || !hash_fits(k.algorithm, hash)) return false;
  if (k.algorithm == KeyAlgorithm::rsa) return mpis.size() == 1 && impl_->rsa->verify(hash, digest, mpis[0]);
  // r || s (ECDSA, IEEE 1363) or R || S (Ed25519, RFC 8032 §5.1.6), each half at its full
  // length: the MPIs dropped their leading zeros (RFC 9580 §5.2.3.3, §5.2.3.4).
  Bytes signature;
  const std::size_t half = ec_scalar_size(k.algorithm);
  if (mpis.size() != 2 || !pad_to(signature, mpis[0], half) || !pad_to(signature, mpis[1], half)) return false;
  std::lock_guard lock(impl_->mutex);
  try {
    return impl_->raw->verify_message(digest.data(), digest.size(), signature.data(), signature.size());
  } catch (const std::exception&) {
    return false;
  }
}

std::vector<Bytes> signature_mpis(const PublicKeyMaterial& key, ByteView raw) {
  auto mpi = [](ByteView v) {
    ByteView s = strip_leading_zeros(v);
    return Bytes(s.begin(), s.end());
  };
  if (key.algorithm == KeyAlgorithm::rsa) return {mpi(raw)};
  const std::size_t half = ec_scalar_size(key.algorithm);
  if (raw.size() != 2 * half)
    throw Error(Errc::token, "the token returned a " + std::to_string(raw.size()) + "-octet " + key.describe() +
                                 " signature, not " + std::to_string(2 * half) + "; nothing was written");
  return {mpi(raw.first(half)), mpi(raw.subspan(half))};
}

}  // namespace catsign::openpgp
