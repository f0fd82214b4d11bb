// SPDX-License-Identifier: Apache-2.0
#include <string>

#include "catsign/error.hpp"
#include "catsign/openpgp/packet.hpp"

namespace catsign::openpgp {

std::string public_key_algorithm_name(std::uint8_t id) {
  switch (static_cast<PublicKeyAlgorithm>(id)) {
    case PublicKeyAlgorithm::rsa: return "RSA";
    case PublicKeyAlgorithm::rsa_encrypt_only: return "RSA (encrypt only)";
    case PublicKeyAlgorithm::rsa_sign_only: return "RSA (sign only)";
    case PublicKeyAlgorithm::elgamal: return "ElGamal";
    case PublicKeyAlgorithm::dsa: return "DSA";
    case PublicKeyAlgorithm::ecdh: return "ECDH";
    case PublicKeyAlgorithm::ecdsa: return "ECDSA";
    case PublicKeyAlgorithm::eddsa_legacy: return "EdDSA";
    case PublicKeyAlgorithm::x25519: return "X25519";
    case PublicKeyAlgorithm::x448: return "X448";
    case PublicKeyAlgorithm::ed25519: return "Ed25519";
    case PublicKeyAlgorithm::ed448: return "Ed448";
  }
  return "algorithm " + std::to_string(id);
}

Bytes encode_packet(PacketTag tag, ByteView body) {
  Bytes out;
  out.reserve(body.size() + 6);
  // New format: 0b11 then the six-bit tag (RFC 4880 §4.2).
  put_u8(out, static_cast<std::uint8_t>(0xC0 | static_cast<std::uint8_t>(tag)));
  // Body length forms of RFC 4880 §4.2.2.1–3.
  std::size_t n = body.size();
  if (n < 192) {
    put_u8(out, static_cast<std::uint8_t>(n));
  } else if (n < 8384) {
    std::size_t m = n - 192;
    put_u8(out, static_cast<std::uint8_t>((m >> 8) + 192));
    put_u8(out, static_cast<std::uint8_t>(m));
  } else {
    if (n > 0xffffffffu) throw Error(Errc::internal, "packet body too large");
    put_u8(out, 0xff);
    put_u32(out, static_cast<std::uint32_t>(n));
  }
  put_bytes(out, body);
  return out;
}

void append_mpi(Bytes& out, ByteView big_endian) {
  ByteView v = strip_leading_zeros(big_endian);
  std::size_t bits = 0;
  if (!v.empty()) {
    bits = (v.size() - 1) * 8;
    for (std::uint8_t top = v[0]; top != 0; top >>= 1) ++bits;
  }
  if (bits > 0xffff) throw Error(Errc::internal, "MPI too large");
  put_u16(out, static_cast<std::uint16_t>(bits));
  put_bytes(out, v);
}

}  // namespace catsign::openpgp
