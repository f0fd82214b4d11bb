// SPDX-License-Identifier: Apache-2.0
// Names of OpenPGP hash algorithm IDs (RFC 9580 §9.5), private to the readers: used to refuse
// the ones catsign does not accept by name, and to read "Hash:" armor headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "catsign/signer.hpp"

namespace catsign::openpgp::detail {

struct HashName {
  std::uint8_t id;
  const char* name;  // as in the cleartext "Hash:" header
};

inline constexpr HashName kHashNames[] = {
    {1, "MD5"},     {2, "SHA1"},     {3, "RIPEMD160"}, {8, "SHA256"},    {9, "SHA384"},
    {10, "SHA512"}, {11, "SHA224"},  {12, "SHA3-256"}, {14, "SHA3-512"},
};

inline std::string hash_id_name(std::uint8_t id) {
  for (const auto& h : kHashNames) {
    if (h.id == id) return h.name;
  }
  return "hash algorithm " + std::to_string(id);
}

// The OpenPGP ID for a "Hash:" header value, or nothing when the name is unknown.
inline std::optional<std::uint8_t> hash_id_from_name(std::string_view name) {
  for (const auto& h : kHashNames) {
    if (name == h.name) return h.id;
  }
  return std::nullopt;
}

inline std::optional<HashAlgorithm> accepted_hash(std::uint8_t id) {
  if (id == static_cast<std::uint8_t>(HashAlgorithm::sha256)) return HashAlgorithm::sha256;
  if (id == static_cast<std::uint8_t>(HashAlgorithm::sha384)) return HashAlgorithm::sha384;
  if (id == static_cast<std::uint8_t>(HashAlgorithm::sha512)) return HashAlgorithm::sha512;
  return std::nullopt;
}

}  // namespace catsign::openpgp::detail
