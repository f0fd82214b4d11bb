// SPDX-License-Identifier: Apache-2.0
// Reading transferable public keys (RFC 4880 §11.1): a primary key, its user IDs with their
// certifications, revocations, and subkeys. catsign's own certificates are made by
// make_certificate (signing.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catsign/openpgp/public_key.hpp"
#include "catsign/openpgp/signature.hpp"

namespace catsign::openpgp {

struct UserIdBinding {
  std::string user_id;
  std::vector<Signature> self_signatures;  // verified self-certifications only
};

struct Certificate {
  PublicKey key;
  Fingerprint fingerprint{};
  std::vector<UserIdBinding> user_ids;
  std::vector<Signature> revocations;  // verified key revocations (0x20) by the key itself
  bool revoked() const noexcept { return !revocations.empty(); }
  // The newest verified self-certification: it carries the key's current flags and expiry
  // (RFC 4880 §5.2.3.3: the most recent self-signature takes precedence).
  const Signature* newest_self_signature() const noexcept;
  // When the key expires, in seconds since the epoch (creation + the key expiration time of
  // the newest self-signature, RFC 4880 §5.2.3.6), or nullopt when it never does.
  std::optional<std::uint64_t> expires_at() const noexcept;
};

// Parses one certificate, armored or binary. Its primary key must be v4 RSA, ECDSA (P-256,
// P-384) or EdDSALegacy (Ed25519): any other algorithm is refused with Error(unsupported) naming it (OpenCSW's 2011 DSA keys). Self
// signatures are verified; those that fail are dropped; a certificate with no valid
// self-certification is refused. Third-party certifications and subkeys are skipped.
Certificate parse_certificate(ByteView data);

// Several certificates in one armored or binary file (a keyring). A block whose primary key
// is unsupported is refused unless `skip_unsupported`.
std::vector<Certificate> parse_keyring(ByteView data, bool skip_unsupported = false);

// A standalone revocation certificate (one 0x20 signature) checked against `cert`.
Signature parse_revocation_for(const Certificate& cert, ByteView data);

}  // namespace catsign::openpgp
