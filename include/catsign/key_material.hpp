// SPDX-License-Identifier: Apache-2.0
// The public half of a signing key, whatever its algorithm: what the token reports and what an
// OpenPGP public-key packet carries (RFC 9580 §5.5.5). The token layer and OpenPGP both speak
// it, so neither needs the other's encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "catsign/util/bytes.hpp"

namespace catsign {

// OpenPGP hash algorithm IDs (RFC 4880 §9.4). SHA-1 is deliberately absent.
enum class HashAlgorithm : std::uint8_t { sha256 = 8, sha384 = 9, sha512 = 10 };

const char* hash_name(HashAlgorithm h) noexcept;         // "SHA256", as in the Hash: header
const char* botan_hash_name(HashAlgorithm h) noexcept;   // "SHA-256"
std::size_t hash_size(HashAlgorithm h) noexcept;
// "sha256", "sha384", "sha512" (the command-line names), or nullopt.
std::optional<HashAlgorithm> hash_from_option(std::string_view name) noexcept;

// The key types catsign generates and signs with.
enum class KeyAlgorithm : std::uint8_t {
  rsa,         // RSASSA-PKCS1-v1_5, OpenPGP algorithm 1
  nist_p256,   // ECDSA on P-256, OpenPGP algorithm 19 (RFC 6637)
  nist_p384,   // ECDSA on P-384, OpenPGP algorithm 19
  ed25519,     // EdDSA on Ed25519, OpenPGP algorithm 22 (RFC 9580 §5.5.5.5, EdDSALegacy)
};

// Big-endian, without leading zero bytes.
struct RsaPublicKey {
  Bytes n;
  Bytes e;
  bool operator==(const RsaPublicKey&) const = default;
};

struct PublicKeyMaterial {
  KeyAlgorithm algorithm = KeyAlgorithm::rsa;
  RsaPublicKey rsa;  // RSA only
  // ECDSA: the SEC1 uncompressed point 0x04 || x || y (SEC1 §2.3.3), as CKA_EC_POINT holds it
  // inside its DER OCTET STRING. Ed25519: the 32-octet public key (RFC 8032 §5.1.5).
  Bytes point;

  bool operator==(const PublicKeyMaterial&) const = default;

  static PublicKeyMaterial from_rsa(RsaPublicKey key) { return {KeyAlgorithm::rsa, std::move(key), {}}; }
  static PublicKeyMaterial from_point(KeyAlgorithm algorithm, Bytes point) { return {algorithm, {}, std::move(point)}; }

  // RSA: the modulus size; EC: the curve's field size (256, 384, 255 for Ed25519).
  unsigned bits() const noexcept;
  // "RSA-3072", "NIST P-256", "NIST P-384", "Ed25519".
  std::string describe() const;
};

// The command-line names of `keygen --algo`: "rsa2048", "rsa3072", "rsa4096", "nistp256",
// "nistp384", "ed25519".
struct KeySpec {
  KeyAlgorithm algorithm = KeyAlgorithm::rsa;
  unsigned rsa_bits = 3072;  // RSA only
};
// Error(usage) listing the names when `name` is none of them.
KeySpec parse_key_spec(std::string_view name);
std::string key_spec_name(const KeySpec& spec);

// The hash a signature by this key uses unless asked for another: SHA-256, and SHA-384 for
// P-384, whose 384-bit order wants a hash at least as long (gpgv refuses P-384 with SHA-256:
// "requires a 384 bit or larger hash"; FIPS 186-5 §6.4.1).
HashAlgorithm default_hash(KeyAlgorithm algorithm) noexcept;
// Whether `hash` is long enough for the key: every hash for RSA, P-256 and Ed25519; SHA-384 or
// SHA-512 for P-384.
bool hash_fits(KeyAlgorithm algorithm, HashAlgorithm hash) noexcept;
// The size in octets of each half of an ECDSA or EdDSA signature (r, s or R, S): 32, 48, 32.
std::size_t ec_scalar_size(KeyAlgorithm algorithm) noexcept;

}  // namespace catsign
