// SPDX-License-Identifier: Apache-2.0
// The seam between OpenPGP and whatever holds the private key: the token in production, an
// in-memory key in unit tests.
#pragma once

#include <cstdint>

#include "catsign/util/bytes.hpp"

namespace catsign {

// OpenPGP hash algorithm IDs (RFC 4880 §9.4). SHA-1 is deliberately absent.
enum class HashAlgorithm : std::uint8_t { sha256 = 8, sha512 = 10 };

const char* hash_name(HashAlgorithm h) noexcept;         // "SHA256", as in the Hash: header
const char* botan_hash_name(HashAlgorithm h) noexcept;   // "SHA-256"
std::size_t hash_size(HashAlgorithm h) noexcept;

// Big-endian, without leading zero bytes.
struct RsaPublicKey {
  Bytes n;
  Bytes e;
  bool operator==(const RsaPublicKey&) const = default;
};

class Signer {
 public:
  virtual ~Signer() = default;
  virtual const RsaPublicKey& public_key() const = 0;
  // Returns the raw RSASSA-PKCS1-v1_5 signature (RFC 8017 §8.2) over `digest`, which is
  // already the hash of the message; the signer adds the DigestInfo for `hash`.
  virtual Bytes sign_digest(HashAlgorithm hash, ByteView digest) = 0;
};

}  // namespace catsign
