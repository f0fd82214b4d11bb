// SPDX-License-Identifier: Apache-2.0
#include "catsign/openpgp/rsa_verifier.hpp"

#include <botan/bigint.h>
#include <botan/exceptn.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>

#include "catsign/error.hpp"
#include "catsign/openpgp/packet.hpp"

namespace catsign::openpgp {

struct RsaVerifier::Impl {
  Botan::RSA_PublicKey key;
  // Botan's PK_Verifier keeps state between calls; one per hash, each behind the mutex.
  mutable std::mutex mutex;
  mutable Botan::PK_Verifier sha256{key, "EMSA3(Raw,SHA-256)"};
  mutable Botan::PK_Verifier sha512{key, "EMSA3(Raw,SHA-512)"};

  explicit Impl(const RsaPublicKey& k)
      : key(Botan::BigInt(k.n.data(), k.n.size()), Botan::BigInt(k.e.data(), k.e.size())) {}
};

// Botan refuses some malformed keys (an even modulus, say) by throwing its own exceptions;
// they become catsign's one error type here, so no key a file supplies can end the process.
RsaVerifier::RsaVerifier(const RsaPublicKey& key) {
  try {
    impl_ = std::make_unique<Impl>(key);
  } catch (const Botan::Exception& e) {
    throw Error(Errc::malformed, std::string("the RSA key is not usable: ") + e.what());
  }
}
RsaVerifier::~RsaVerifier() = default;

bool RsaVerifier::verify(HashAlgorithm hash, ByteView digest, ByteView signature) const {
  if (digest.size() != hash_size(hash)) return false;
  // An OpenPGP MPI drops leading zero octets; PKCS#1 wants the signature at modulus length.
  ByteView s = strip_leading_zeros(signature);
  std::size_t k = impl_->key.get_n().bytes();
  if (s.size() > k) return false;
  Bytes padded(k - s.size(), 0);
  padded.insert(padded.end(), s.begin(), s.end());
  std::lock_guard lock(impl_->mutex);
  Botan::PK_Verifier& v = hash == HashAlgorithm::sha512 ? impl_->sha512 : impl_->sha256;
  try {
    return v.verify_message(digest.data(), digest.size(), padded.data(), padded.size());
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace catsign::openpgp
