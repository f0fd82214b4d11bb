// SPDX-License-Identifier: Apache-2.0
#include "catsign/key_material.hpp"

#include "catsign/error.hpp"

namespace catsign {

const char* hash_name(HashAlgorithm h) noexcept {
  switch (h) {
    case HashAlgorithm::sha256: return "SHA256";
    case HashAlgorithm::sha384: return "SHA384";
    case HashAlgorithm::sha512: return "SHA512";
  }
  return "SHA256";
}

const char* botan_hash_name(HashAlgorithm h) noexcept {
  switch (h) {
    case HashAlgorithm::sha256: return "SHA-256";
    case HashAlgorithm::sha384: return "SHA-384";
    case HashAlgorithm::sha512: return "SHA-512";
  }
  return "SHA-256";
}

std::size_t hash_size(HashAlgorithm h) noexcept {
  switch (h) {
    case HashAlgorithm::sha256: return 32;
    case HashAlgorithm::sha384: return 48;
    case HashAlgorithm::sha512: return 64;
  }
  return 32;
}

std::optional<HashAlgorithm> hash_from_option(std::string_view name) noexcept {
  if (name == "sha256") return HashAlgorithm::sha256;
  if (name == "sha384") return HashAlgorithm::sha384;
  if (name == "sha512") return HashAlgorithm::sha512;
  return std::nullopt;
}

unsigned PublicKeyMaterial::bits() const noexcept {
  switch (algorithm) {
    case KeyAlgorithm::rsa: {
      ByteView n = strip_leading_zeros(rsa.n);
      if (n.empty()) return 0;
      unsigned bits = static_cast<unsigned>((n.size() - 1) * 8);
      for (std::uint8_t top = n[0]; top != 0; top >>= 1) ++bits;
      return bits;
    }
    case KeyAlgorithm::nist_p256: return 256;
    case KeyAlgorithm::nist_p384: return 384;
    case KeyAlgorithm::ed25519: return 255;
  }
  return 0;
}

std::string PublicKeyMaterial::describe() const {
  switch (algorithm) {
    case KeyAlgorithm::rsa: return "RSA-" + std::to_string(bits());
    case KeyAlgorithm::nist_p256: return "NIST P-256";
    case KeyAlgorithm::nist_p384: return "NIST P-384";
    case KeyAlgorithm::ed25519: return "Ed25519";
  }
  return "unknown";
}

KeySpec parse_key_spec(std::string_view name) {
  if (name == "rsa2048") return {KeyAlgorithm::rsa, 2048};
  if (name == "rsa3072") return {KeyAlgorithm::rsa, 3072};
  if (name == "rsa4096") return {KeyAlgorithm::rsa, 4096};
  if (name == "nistp256") return {KeyAlgorithm::nist_p256, 0};
  if (name == "nistp384") return {KeyAlgorithm::nist_p384, 0};
  if (name == "ed25519") return {KeyAlgorithm::ed25519, 0};
  throw Error(Errc::usage, "'" + std::string(name) +
                               "' is not a key type: use rsa2048, rsa3072, rsa4096, nistp256, nistp384 or ed25519");
}

std::string key_spec_name(const KeySpec& spec) {
  switch (spec.algorithm) {
    case KeyAlgorithm::rsa: return "rsa" + std::to_string(spec.rsa_bits);
    case KeyAlgorithm::nist_p256: return "nistp256";
    case KeyAlgorithm::nist_p384: return "nistp384";
    case KeyAlgorithm::ed25519: return "ed25519";
  }
  return "rsa3072";
}

HashAlgorithm default_hash(KeyAlgorithm algorithm) noexcept {
  return algorithm == KeyAlgorithm::nist_p384 ? HashAlgorithm::sha384 : HashAlgorithm::sha256;
}

bool hash_fits(KeyAlgorithm algorithm, HashAlgorithm hash) noexcept {
  return algorithm != KeyAlgorithm::nist_p384 || hash_size(hash) >= 48;
}

std::size_t ec_scalar_size(KeyAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case KeyAlgorithm::nist_p256: return 32;
    case KeyAlgorithm::nist_p384: return 48;
    case KeyAlgorithm::ed25519: return 32;
    case KeyAlgorithm::rsa: return 0;
  }
  return 0;
}

}  // namespace catsign
