// SPDX-License-Identifier: Apache-2.0
// The v4 signature packet (RFC 4880 §5.2.3) and its subpackets (§5.2.3.1).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catsign/openpgp/packet.hpp"
#include "catsign/openpgp/public_key.hpp"
#include "catsign/signer.hpp"

namespace catsign::openpgp {

// Signature types (RFC 4880 §5.2.1).
enum class SignatureType : std::uint8_t {
  binary = 0x00,
  text = 0x01,
  generic_certification = 0x10,
  persona_certification = 0x11,
  casual_certification = 0x12,
  positive_certification = 0x13,
  subkey_binding = 0x18,
  primary_key_binding = 0x19,
  direct_key = 0x1f,
  key_revocation = 0x20,
  subkey_revocation = 0x28,
  certification_revocation = 0x30,
};

// Subpacket types (RFC 4880 §5.2.3.1, RFC 9580 §5.2.3.7).
enum class SubpacketType : std::uint8_t {
  creation_time = 2,
  expiration_time = 3,
  key_expiration_time = 9,
  preferred_symmetric = 11,
  issuer_key_id = 16,
  notation = 20,
  preferred_hash = 21,
  preferred_compression = 22,
  key_server_preferences = 23,
  primary_user_id = 25,
  key_flags = 27,
  revocation_reason = 29,
  features = 30,
  issuer_fingerprint = 33,
};

struct Subpacket {
  std::uint8_t type = 0;
  bool critical = false;
  Bytes body;
  bool operator==(const Subpacket&) const = default;
};

struct Notation {
  std::string name;   // "catalog@catsign"
  std::string value;  // "unstable/i386/5.10"
  bool human_readable = true;
  bool operator==(const Notation&) const = default;
};

// Key flags (RFC 4880 §5.2.3.21).
inline constexpr std::uint8_t kKeyFlagCertify = 0x01;
inline constexpr std::uint8_t kKeyFlagSign = 0x02;

// Reason for revocation codes (RFC 4880 §5.2.3.23).
enum class RevocationReason : std::uint8_t {
  no_reason = 0x00,
  superseded = 0x01,
  compromised = 0x02,
  retired = 0x03,
};

struct Signature {
  SignatureType type = SignatureType::binary;
  std::uint8_t public_key_algorithm = static_cast<std::uint8_t>(PublicKeyAlgorithm::rsa);
  HashAlgorithm hash = HashAlgorithm::sha256;
  std::vector<Subpacket> hashed;
  std::vector<Subpacket> unhashed;
  std::array<std::uint8_t, 2> hash_left16{};
  // The algorithm's MPIs, no leading zeros: RSA s; ECDSA r, s (RFC 9580 §5.2.3.3); EdDSALegacy
  // R, S (RFC 9580 §5.2.3.4).
  std::vector<Bytes> mpis;

  // Version, type, algorithms and hashed subpackets: the part that is hashed (§5.2.4).
  Bytes hashed_part() const;
  // 0x04 0xff and the four-octet length of hashed_part() (RFC 4880 §5.2.4).
  Bytes trailer() const;
  Bytes body() const;
  Bytes packet() const { return encode_packet(PacketTag::signature, body()); }

  std::optional<std::uint32_t> creation_time() const;
  std::optional<Fingerprint> issuer_fingerprint() const;  // hashed or unhashed
  std::optional<KeyId> issuer_key_id() const;             // hashed or unhashed
  std::vector<Notation> notations() const;                // hashed only: unhashed ones are
                                                          // not covered by the signature
  bool operator==(const Signature&) const = default;
};

// Subpacket constructors for the writer.
Subpacket creation_time_subpacket(std::uint32_t t);
Subpacket issuer_key_id_subpacket(const KeyId& id);
Subpacket issuer_fingerprint_subpacket(const Fingerprint& fp);
Subpacket notation_subpacket(const Notation& n);
Subpacket key_flags_subpacket(std::uint8_t flags);
// Key expiration time (RFC 4880 §5.2.3.6): seconds after the key's creation; 0 never.
Subpacket key_expiration_subpacket(std::uint32_t seconds_after_creation);
Subpacket preferred_hash_subpacket(std::initializer_list<HashAlgorithm> order);
Subpacket revocation_reason_subpacket(RevocationReason reason, std::string_view text);

// Subpacket area with its two-octet length prefix; lengths use the RFC 4880 §5.2.3.1 forms.
Bytes encode_subpackets(const std::vector<Subpacket>& subpackets);

// Parses a signature packet body. v4 only; v3 and v5/v6 are refused as unsupported. Hash
// algorithms other than SHA-256/384/512 are refused by name (SHA-1: "SHA1 signatures are not
// accepted"). Public-key algorithms other than RSA, ECDSA and EdDSALegacy are refused by
// name. Subpacket lengths bounded.
Signature parse_signature(ByteView body);

}  // namespace catsign::openpgp
