// SPDX-License-Identifier: Apache-2.0
// The v4 RSA public-key packet, its fingerprint and key ID (RFC 4880 §5.5.2, §12.2).
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
  RsaPublicKey rsa;

  // Packet body: version 4, creation time, algorithm 1 (RSA), MPI n, MPI e.
  Bytes body() const;
  Bytes packet() const { return encode_packet(PacketTag::public_key, body()); }
  // SHA-1 over 0x99, two-octet length, body (RFC 4880 §12.2). SHA-1 is fixed by the v4 key
  // format here; it is never used for signatures.
  Fingerprint fingerprint() const;
  KeyId key_id() const;  // the low 64 bits of the fingerprint

  bool operator==(const PublicKey&) const = default;
};

// Parses a public-key or public-subkey packet body. RSA v4 keys are returned; any other
// version or algorithm is refused with Error(unsupported) naming it ("DSA keys are not
// supported: catsign verifies RSA signatures only").
PublicKey parse_public_key(ByteView body);

// "1234 5678 ..." is for people; catsign prints the 40 uppercase hex digits gpg prints.
std::string format_fingerprint(const Fingerprint& fp);
std::string format_key_id(const KeyId& id);

}  // namespace catsign::openpgp
