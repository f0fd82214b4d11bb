// SPDX-License-Identifier: Apache-2.0
// Making signatures with a Signer: documents, certifications and revocations. Every
// signature the signer returns is verified with the public key before it is used, so a faulty
// token can never yield a published bad signature.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catsign/openpgp/document_hasher.hpp"
#include "catsign/openpgp/public_key.hpp"
#include "catsign/openpgp/verifier.hpp"
#include "catsign/openpgp/signature.hpp"
#include "catsign/signer.hpp"

namespace catsign::openpgp {

// The hashed notation that binds a daemon signature to one catalog tuple (docs/DESIGN.md "Contract"), so a
// signature for unstable/i386/5.10 can't be passed off as one for dublin/sparc/5.9.
inline constexpr const char* kCatalogNotation = "catalog@catsign";

struct SignOptions {
  HashAlgorithm hash = HashAlgorithm::sha256;
  std::uint32_t creation_time = 0;  // 0: now
  std::vector<Notation> notations;  // hashed, human-readable (docs/DESIGN.md "Contract")
};

// A document signature with everything but its signature value: the packet's fields and the
// digest the key is to sign. The key and this digest say exactly what is signed before the
// token signs it, so the daemon's audit record can be on disk while the token works. For RSA
// (RSASSA-PKCS1-v1_5, RFC 8017 §8.2.1) and Ed25519 (RFC 8032 §5.1.6) they even fix the
// signature's bytes; ECDSA draws a fresh nonce per signature (FIPS 186-4 §6.3).
struct PreparedSignature {
  Signature signature;  // mpis empty
  Bytes digest;         // hash of the data, the hashed part and the trailer (RFC 4880 §5.2.4)
};

// Builds the hashed part for `key` (creation time, issuer fingerprint, the options'
// notations; the key ID unhashed) and finishes `hasher` over it. Needs no private key.
PreparedSignature prepare_document_signature(const PublicKey& key, DocumentHasher&& hasher,
                                             const SignOptions& options);

// A Signer bound to the OpenPGP identity of its key (the certificate's public-key packet).
class OpenPgpKey {
 public:
  // Throws Error(refused) when the signer's key is not the one in `key`: the wrong token or
  // the wrong certificate, named by fingerprint.
  OpenPgpKey(Signer& signer, PublicKey key);

  const PublicKey& public_key() const noexcept { return key_; }
  const Fingerprint& fingerprint() const noexcept { return fingerprint_; }
  // The hash this key signs with unless asked otherwise (key_material.hpp).
  HashAlgorithm default_hash() const noexcept { return catsign::default_hash(key_.material.algorithm); }

  // Completes a document signature over what `hasher` has been fed. Error(usage) when the
  // hash is too short for the key (P-384 wants SHA-384 or SHA-512).
  Signature sign_document(DocumentHasher&& hasher, const SignOptions& options);
  // The same in two steps: prepare_document_signature, then the signer signs the digest and
  // the result is verified. `prepared` must be for this key.
  Signature complete(PreparedSignature&& prepared);
  // Positive certification (0x13) of `user_id`: key flags, preferred hashes, issuer
  // fingerprint (RFC 4880 §5.2.3.21, §5.2.3.8, RFC 9580 §5.2.3.35), and with
  // `key_expiration` the key expiration time: seconds after the key's creation (§5.2.3.6).
  Signature certify_user_id(std::string_view user_id, std::uint8_t key_flags,
                            const SignOptions& options, std::uint32_t key_expiration = 0);
  // Key revocation (0x20) with a reason (RFC 4880 §5.2.3.23).
  Signature revoke_key(RevocationReason reason, std::string_view text, const SignOptions& options);

 private:
  Signature finish(SignatureType type, std::vector<Subpacket> hashed, DocumentHasher&& hasher,
                   const SignOptions& options);
  Signature sign_prepared(PreparedSignature&& prepared);
  Signer& signer_;
  PublicKey key_;
  Fingerprint fingerprint_;
  Verifier verifier_;
};

// The transferable public key catsign publishes: key, user ID, positive self-certification
// (expiring `key_expiration` seconds after the key's creation, 0: never).
Bytes make_certificate(OpenPgpKey& key, std::string_view user_id, const SignOptions& options,
                       std::uint32_t key_expiration = 0);

// The hash-input prefix for a key (0x99, length, body) and a user ID (0xB4, length, id), used
// by certifications and revocations (RFC 4880 §5.2.4).
void hash_key(DocumentHasher& hasher, const PublicKey& key);
void hash_user_id(DocumentHasher& hasher, std::string_view user_id);

}  // namespace catsign::openpgp
