// SPDX-License-Identifier: Apache-2.0
#include "catsign/openpgp/public_key.hpp"

#include <botan/hash.h>

#include <algorithm>

namespace catsign::openpgp {

Bytes PublicKey::body() const {
  // RFC 4880 §5.5.2: version 4, creation time, algorithm, then the algorithm's MPIs.
  Bytes out;
  put_u8(out, 4);
  put_u32(out, creation_time);
  put_u8(out, openpgp_algorithm(material.algorithm));
  if (material.algorithm == KeyAlgorithm::rsa) {
    append_mpi(out, material.rsa.n);
    append_mpi(out, material.rsa.e);
    return out;
  }
  ByteView oid = curve_oid(material.algorithm);
  put_u8(out, static_cast<std::uint8_t>(oid.size()));
  put_bytes(out, oid);
  if (material.algorithm == KeyAlgorithm::ed25519) {
    // RFC 9580 §5.5.5.5: the native 32-octet point behind the prefix octet 0x40.
    Bytes prefixed{0x40};
    put_bytes(prefixed, material.point);
    append_mpi(out, prefixed);
  } else {
    append_mpi(out, material.point);  // 0x04 || x || y (RFC 6637 §6)
  }
  return out;
}

std::uint8_t openpgp_algorithm(KeyAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case KeyAlgorithm::rsa: return static_cast<std::uint8_t>(PublicKeyAlgorithm::rsa);
    case KeyAlgorithm::nist_p256:
    case KeyAlgorithm::nist_p384: return static_cast<std::uint8_t>(PublicKeyAlgorithm::ecdsa);
    case KeyAlgorithm::ed25519: return static_cast<std::uint8_t>(PublicKeyAlgorithm::eddsa_legacy);
  }
  return 0;
}

ByteView curve_oid(KeyAlgorithm algorithm) noexcept {
  // The OIDs' DER contents without tag and length (RFC 6637 §11, RFC 9580 §9.2).
  static constexpr std::uint8_t kP256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};  // 1.2.840.10045.3.1.7
  static constexpr std::uint8_t kP384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};                    // 1.3.132.0.34
  static constexpr std::uint8_t kEd25519[] = {0x2b, 0x06, 0x01, 0x04, 0x01,
                                              0xda, 0x47, 0x0f, 0x01};  // 1.3.6.1.4.1.11591.15.1
  switch (algorithm) {
    case KeyAlgorithm::nist_p256: return kP256;
    case KeyAlgorithm::nist_p384: return kP384;
    case KeyAlgorithm::ed25519: return kEd25519;
    case KeyAlgorithm::rsa: return {};
  }
  return {};
}

Fingerprint PublicKey::fingerprint() const {
  Bytes b = body();
  auto sha1 = Botan::HashFunction::create_or_throw("SHA-1");
  const std::uint8_t prefix[3] = {0x99, static_cast<std::uint8_t>(b.size() >> 8),
                                  static_cast<std::uint8_t>(b.size())};
  sha1->update(prefix, sizeof prefix);
  sha1->update(b.data(), b.size());
  Fingerprint fp{};
  sha1->final(fp.data());
  return fp;
}

KeyId PublicKey::key_id() const {
  Fingerprint fp = fingerprint();
  KeyId id{};
  std::copy(fp.end() - 8, fp.end(), id.begin());
  return id;
}

std::string format_fingerprint(const Fingerprint& fp) {
  std::string hex = to_hex(fp);
  std::transform(hex.begin(), hex.end(), hex.begin(), [](char c) { return static_cast<char>(std::toupper(c)); });
  return hex;
}

std::string format_key_id(const KeyId& id) {
  std::string hex = to_hex(id);
  std::transform(hex.begin(), hex.end(), hex.begin(), [](char c) { return static_cast<char>(std::toupper(c)); });
  return hex;
}

}  // namespace catsign::openpgp
