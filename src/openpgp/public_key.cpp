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
  put_u8(out, static_cast<std::uint8_t>(PublicKeyAlgorithm::rsa));
  append_mpi(out, rsa.n);
  append_mpi(out, rsa.e);
  return out;
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
