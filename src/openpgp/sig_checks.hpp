// SPDX-License-Identifier: Apache-2.0
// Checks shared by the certificate reader and the document verifier, private to them.
#pragma once

#include <algorithm>
#include <optional>
#include <string>

#include "catsign/openpgp/document_hasher.hpp"
#include "catsign/openpgp/public_key.hpp"
#include "catsign/openpgp/verifier.hpp"
#include "catsign/openpgp/signature.hpp"
#include "catsign/openpgp/signing.hpp"

namespace catsign::openpgp::detail {

// A four-octet time subpacket from the HASHED area only: the unhashed area is not covered by
// the signature and may say anything.
inline std::optional<std::uint32_t> hashed_time(const Signature& sig, SubpacketType type) {
  for (const auto& sp : sig.hashed) {
    if (sp.type == static_cast<std::uint8_t>(type) && sp.body.size() == 4) {
      return (static_cast<std::uint32_t>(sp.body[0]) << 24) |
             (static_cast<std::uint32_t>(sp.body[1]) << 16) |
             (static_cast<std::uint32_t>(sp.body[2]) << 8) | sp.body[3];
    }
  }
  return std::nullopt;
}

inline const Subpacket* hashed_subpacket(const Signature& sig, SubpacketType type) {
  for (const auto& sp : sig.hashed) {
    if (sp.type == static_cast<std::uint8_t>(type)) return &sp;
  }
  return nullptr;
}

// The name of the first critical subpacket catsign does not understand (RFC 4880 §5.2.3.1:
// such a signature must be treated as invalid), or nothing. Certifications may also carry the
// key-level subpackets; a critical notation is understood only if it is catsign's own.
inline std::optional<std::string> unknown_critical(const Signature& sig, bool certification) {
  auto understood = [&](const Subpacket& sp) {
    switch (sp.type) {
      case 2:   // signature creation time
      case 3:   // signature expiration time
      case 4:   // exportable certification
      case 16:  // issuer key ID
      case 33:  // issuer fingerprint
        return true;
      case 20: {  // notation: flags(4) name-len(2) value-len(2) name value
        if (sp.body.size() < 8) return false;
        const std::size_t name_len = (static_cast<std::size_t>(sp.body[4]) << 8) | sp.body[5];
        if (sp.body.size() < 8 + name_len) return false;
        const std::string name(sp.body.begin() + 8,
                               sp.body.begin() + 8 + static_cast<std::ptrdiff_t>(name_len));
        return name == "catalog@catsign";
      }
      case 7:   // revocable
      case 9:   // key expiration time
      case 11:  // preferred symmetric algorithms
      case 21:  // preferred hash algorithms
      case 22:  // preferred compression algorithms
      case 23:  // key server preferences
      case 25:  // primary user ID
      case 27:  // key flags
      case 29:  // reason for revocation
      case 30:  // features
        return certification;
      default:
        return false;
    }
  };
  for (const auto* area : {&sig.hashed, &sig.unhashed}) {
    for (const auto& sp : *area) {
      if (sp.critical && !understood(sp)) return "critical subpacket " + std::to_string(sp.type);
    }
  }
  return std::nullopt;
}

// True when the signature names `fp` as its issuer: by fingerprint if it carries one, else by
// key ID. A signature that names no issuer is nobody's.
inline bool issued_by(const Signature& sig, const Fingerprint& fp) {
  if (auto f = sig.issuer_fingerprint()) return *f == fp;
  if (auto id = sig.issuer_key_id()) {
    return std::equal(id->begin(), id->end(), fp.end() - 8, fp.end());
  }
  return false;
}

// Finishes `hasher` for `sig` and checks the quick 16-bit test, then the RSA signature.
inline bool digest_and_verify(DocumentHasher&& hasher, const Signature& sig,
                              const Verifier& verifier) {
  const Bytes digest = hasher.finish(sig);
  if (digest.size() < 2 || digest[0] != sig.hash_left16[0] || digest[1] != sig.hash_left16[1]) {
    return false;
  }
  return verifier.verify(sig.hash, digest, sig.mpis);
}

// A key signature (certification over key + user ID, or key revocation over the key alone)
// made by `key` itself (RFC 4880 §5.2.4).
inline bool verify_self_signature(const PublicKey& key, const Fingerprint& fp,
                                  const Verifier& verifier, const Signature& sig,
                                  const std::string* user_id) {
  if (!issued_by(sig, fp)) return false;
  if (unknown_critical(sig, true)) return false;
  const auto created = hashed_time(sig, SubpacketType::creation_time);
  if (!created || *created < key.creation_time) return false;
  DocumentHasher hasher(sig.hash, SignatureType::binary);
  hash_key(hasher, key);
  if (user_id) hash_user_id(hasher, *user_id);
  return digest_and_verify(std::move(hasher), sig, verifier);
}

}  // namespace catsign::openpgp::detail
