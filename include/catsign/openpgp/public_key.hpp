// SPDX-License-Identifier: Apache-2.0
// The v4 public-key packet, its fingerprint and key ID (RFC 4880 §5.5.2, §12.2), for RSA,
// ECDSA (RFC 6637 §9, RFC 9580 §5.5.5.4) and EdDSALegacy (RFC 9580 §5.5.5.5).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "catsign/openpgp/packet.hpp"
#include "catsign/signer.hpp"

namespace catsign::openpgp {

using Fingerprint = std::array<std::uint8_t, 20>;
using KeyId = std::array<std::uint8_t, 8>;

struct PublicKey {
  std::uint32_t creation_time = 0;
  PublicKeyMaterial material;

  // Packet body: version 4, creation time, algorithm, then RSA: MPI n, MPI e; ECDSA: the
  // curve OID (one length octet, no DER tag) and the point as an MPI; EdDSALegacy: the
  // Ed25519 OID and the 0x40-prefixed point as an MPI.
  Bytes body() const;
  Bytes packet() const { return encode_packet(PacketTag::public_key, body()); }
  // SHA-1 over 0x99, two-octet length, body (RFC 4880 §12.2). SHA-1 is fixed by the v4 key
  // format here; it is never used for signatures.
  Fingerprint fingerprint() const;
  KeyId key_id() const;  // the low 64 bits of the fingerprint

  bool operator==(const PublicKey&) const = default;
};

// The OpenPGP public-key algorithm ID of a key type: 1, 19 or 22.
std::uint8_t openpgp_algorithm(KeyAlgorithm algorithm) noexcept;
// The curve OID as an OpenPGP key packet carries it (the DER contents, no tag or length);
// empty for RSA.
ByteView curve_oid(KeyAlgorithm algorithm) noexcept;

// Parses a public-key or public-subkey packet body. v4 RSA, ECDSA on P-256 or P-384 and
// EdDSALegacy on Ed25519 are returned; any other version, algorithm or curve is refused with
// Error(unsupported) naming it ("the key is DSA: catsign verifies RSA, ECDSA and EdDSA keys
// only").
PublicKey parse_public_key(ByteView body);

// "1234 5678 ..." is for people; catsign prints the 40 uppercase hex digits gpg prints.
std::string format_fingerprint(const Fingerprint& fp);
std::string format_key_id(const KeyId& id);

}  // namespace catsign::openpgp
