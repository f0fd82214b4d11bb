// SPDX-License-Identifier: Apache-2.0
#include "catsign/signer.hpp"

namespace catsign {

const char* hash_name(HashAlgorithm h) noexcept {
  return h == HashAlgorithm::sha512 ? "SHA512" : "SHA256";
}

const char* botan_hash_name(HashAlgorithm h) noexcept {
  return h == HashAlgorithm::sha512 ? "SHA-512" : "SHA-256";
}

std::size_t hash_size(HashAlgorithm h) noexcept { return h == HashAlgorithm::sha512 ? 64 : 32; }

}  // namespace catsign
