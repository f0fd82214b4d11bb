// SPDX-License-Identifier: Apache-2.0
#include <botan/base64.h>
#include <botan/hash.h>

#include "catsign/openpgp/armor.hpp"

namespace catsign::openpgp {

const char* armor_label(ArmorKind kind) noexcept {
  switch (kind) {
    case ArmorKind::signature: return "PGP SIGNATURE";
    case ArmorKind::public_key: return "PGP PUBLIC KEY BLOCK";
    case ArmorKind::message: return "PGP MESSAGE";
  }
  return "PGP MESSAGE";
}

std::string armor_body(ByteView data) {
  // RFC 4880 §6.3: Base64 lines of at most 76 characters; gpg writes 64, and so do we.
  // Botan's encoder does not wrap. 48 input octets make one 64-column line.
  std::string out;
  out.reserve(data.size() * 4 / 3 + data.size() / 48 + 16);
  for (std::size_t i = 0; i < data.size(); i += 48) {
    std::size_t n = std::min<std::size_t>(48, data.size() - i);
    out += Botan::base64_encode(data.data() + i, n);
    out += '\n';
  }
  // RFC 4880 §6.1: the CRC-24 checksum, Base64-encoded after '='.
  auto crc = Botan::HashFunction::create_or_throw("CRC24");
  crc->update(data.data(), data.size());
  std::uint8_t sum[3];
  crc->final(sum);
  out += '=';
  out += Botan::base64_encode(sum, sizeof sum);
  out += '\n';
  return out;
}

std::string armor(ArmorKind kind, ByteView data) {
  std::string label = armor_label(kind);
  // No armor headers: the empty line after BEGIN is what the format requires (§6.2).
  return "-----BEGIN " + label + "-----\n\n" + armor_body(data) + "-----END " + label + "-----\n";
}

}  // namespace catsign::openpgp
