// SPDX-License-Identifier: Apache-2.0
// OpenPGP packet framing (RFC 4880 §4.2, RFC 9580 §4.2) and MPIs (RFC 4880 §3.2).
#pragma once

#include <cstdint>
#include <vector>

#include "catsign/util/bytes.hpp"

namespace catsign::openpgp {

// Packet tags (RFC 9580 §5) that catsign reads or writes.
enum class PacketTag : std::uint8_t {
  signature = 2,
  secret_key = 5,
  public_key = 6,
  secret_subkey = 7,
  marker = 10,
  trust = 12,
  user_id = 13,
  public_subkey = 14,
  user_attribute = 17,
};

// Public-key algorithm IDs (RFC 9580 §9.1).
enum class PublicKeyAlgorithm : std::uint8_t {
  rsa = 1,
  rsa_encrypt_only = 2,
  rsa_sign_only = 3,
  elgamal = 16,
  dsa = 17,
  ecdh = 18,
  ecdsa = 19,
  eddsa_legacy = 22,
  x25519 = 25,
  x448 = 26,
  ed25519 = 27,
  ed448 = 28,
};
// "DSA", "ElGamal", ..., or "algorithm 99": used to refuse algorithms by name.
std::string public_key_algorithm_name(std::uint8_t id);

// Writes a packet with a new-format header (RFC 4880 §4.2.2), which every client since
// PGP 5 and GnuPG 1.0 reads.
Bytes encode_packet(PacketTag tag, ByteView body);

// Appends an MPI: a two-octet bit count, then the value with no leading zero octets
// (RFC 4880 §3.2). About one RSA signature in 256 starts with a zero octet.
void append_mpi(Bytes& out, ByteView big_endian);

// A parsed packet. `offset` is where its header starts in the input, for error messages.
struct Packet {
  std::uint8_t tag = 0;
  Bytes body;
  std::size_t offset = 0;
};

// Upper bound on any single packet body catsign accepts. Keys, user IDs and signatures are
// far smaller; anything larger is refused rather than allocated.
inline constexpr std::size_t kMaxPacketBody = 64 * 1024;

// Splits binary OpenPGP data into packets, old or new format headers. Refuses partial body
// lengths, indeterminate lengths, truncation and oversize bodies with Error(malformed) saying
// at which byte offset.
std::vector<Packet> parse_packets(ByteView data);

}  // namespace catsign::openpgp
