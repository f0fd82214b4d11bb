// SPDX-License-Identifier: Apache-2.0
#include "catsign/openpgp/signing.hpp"

#include <ctime>
#include <optional>

#include "catsign/error.hpp"

namespace catsign::openpgp {

namespace {

std::uint32_t now_or(std::uint32_t t) {
  return t != 0 ? t : static_cast<std::uint32_t>(std::time(nullptr));
}

std::string describe_key(const PublicKeyMaterial& k) {
  if (k.algorithm != KeyAlgorithm::rsa)
    return k.describe() + " key with point " + to_hex(ByteView(k.point).first(std::min<std::size_t>(8, k.point.size()))) +
           "...";
  ByteView n = strip_leading_zeros(k.rsa.n);
  return k.describe() + " key with modulus " + to_hex(n.first(std::min<std::size_t>(8, n.size()))) + "...";
}

PublicKeyMaterial normalised(const PublicKeyMaterial& k) {
  PublicKeyMaterial out = k;
  out.rsa = RsaPublicKey{without_leading_zeros(k.rsa.n), without_leading_zeros(k.rsa.e)};
  return out;
}

}  // namespace

void hash_key(DocumentHasher& hasher, const PublicKey& key) {
  // RFC 4880 §5.2.4: 0x99, two-octet length, then the public-key packet body.
  Bytes body = key.body();
  Bytes prefix{0x99};
  put_u16(prefix, static_cast<std::uint16_t>(body.size()));
  hasher.update(prefix);
  hasher.update(body);
}

void hash_user_id(DocumentHasher& hasher, std::string_view user_id) {
  // RFC 4880 §5.2.4: 0xB4, four-octet length, then the User ID.
  Bytes prefix{0xB4};
  put_u32(prefix, static_cast<std::uint32_t>(user_id.size()));
  hasher.update(prefix);
  hasher.update(as_bytes(user_id));
}

OpenPgpKey::OpenPgpKey(Signer& signer, PublicKey key)
    : signer_(signer), key_(std::move(key)), fingerprint_(key_.fingerprint()), verifier_(key_.material) {
  PublicKeyMaterial token_key = normalised(signer.public_key());
  if (!(token_key == normalised(key_.material)))
    throw Error(Errc::refused, "the key on the token (" + describe_key(token_key) +
                                   ") is not the key of certificate " + format_fingerprint(fingerprint_) +
                                   ": insert the right token or configure its certificate");
}

namespace {

PreparedSignature prepare(const PublicKey& key, const Fingerprint& fingerprint, SignatureType type,
                          std::vector<Subpacket> hashed, DocumentHasher&& hasher, const SignOptions& options) {
  if (hasher.hash() != options.hash) throw Error(Errc::internal, "hasher and options disagree on the hash");
  if (!hash_fits(key.material.algorithm, options.hash))
    throw Error(Errc::usage, std::string("a ") + key.material.describe() + " key signs with SHA-384 or SHA-512, not " +
                                 hash_name(options.hash) + " (gpgv refuses a shorter hash): use --hash sha384");
  PreparedSignature p;
  Signature& sig = p.signature;
  sig.type = type;
  sig.public_key_algorithm = openpgp_algorithm(key.material.algorithm);
  sig.hash = options.hash;
  // Creation time and issuer fingerprint are hashed (RFC 9580 §5.2.3.11, §5.2.3.35); the key
  // ID goes unhashed too, for older clients that look only for it (RFC 4880 §5.2.3.5).
  sig.hashed.push_back(creation_time_subpacket(now_or(options.creation_time)));
  sig.hashed.push_back(issuer_fingerprint_subpacket(fingerprint));
  for (Subpacket& s : hashed) sig.hashed.push_back(std::move(s));
  for (const Notation& n : options.notations) sig.hashed.push_back(notation_subpacket(n));
  sig.unhashed.push_back(issuer_key_id_subpacket(key.key_id()));
  p.digest = hasher.finish(sig);
  sig.hash_left16 = {p.digest[0], p.digest[1]};
  return p;
}

SignatureType document_type(const DocumentHasher& hasher) {
  SignatureType type = hasher.type();
  if (type != SignatureType::binary && type != SignatureType::text)
    throw Error(Errc::internal, "document signatures are binary or text");
  return type;
}

}  // namespace

PreparedSignature prepare_document_signature(const PublicKey& key, DocumentHasher&& hasher,
                                             const SignOptions& options) {
  SignatureType type = document_type(hasher);
  return prepare(key, key.fingerprint(), type, {}, std::move(hasher), options);
}

Signature OpenPgpKey::finish(SignatureType type, std::vector<Subpacket> hashed, DocumentHasher&& hasher,
                             const SignOptions& options) {
  return sign_prepared(prepare(key_, fingerprint_, type, std::move(hashed), std::move(hasher), options));
}

Signature OpenPgpKey::sign_prepared(PreparedSignature&& prepared) {
  Signature sig = std::move(prepared.signature);
  const Bytes& digest = prepared.digest;
  Bytes raw = signer_.sign_digest(sig.hash, digest);
  sig.mpis = signature_mpis(key_.material, raw);
  // A faulty token must never yield a published bad signature: check before anyone sees it.
  if (!verifier_.verify(sig.hash, digest, sig.mpis))
    throw Error(Errc::token, "the token returned a signature that does not verify with key " +
                                 format_fingerprint(fingerprint_) +
                                 "; nothing was written: check the token and try again");
  return sig;
}

Signature OpenPgpKey::sign_document(DocumentHasher&& hasher, const SignOptions& options) {
  SignatureType type = document_type(hasher);
  return finish(type, {}, std::move(hasher), options);
}

Signature OpenPgpKey::complete(PreparedSignature&& prepared) {
  if (prepared.signature.issuer_fingerprint() != std::optional<Fingerprint>(fingerprint_))
    throw Error(Errc::internal, "a signature prepared for another key");
  return sign_prepared(std::move(prepared));
}

Signature OpenPgpKey::certify_user_id(std::string_view user_id, std::uint8_t key_flags,
                                      const SignOptions& options, std::uint32_t key_expiration) {
  DocumentHasher hasher(options.hash, SignatureType::positive_certification);
  hash_key(hasher, key_);
  hash_user_id(hasher, user_id);
  std::vector<Subpacket> hashed{key_flags_subpacket(key_flags),
                                preferred_hash_subpacket({HashAlgorithm::sha512, HashAlgorithm::sha384,
                                                          HashAlgorithm::sha256})};
  // The key's expiry lives in its newest self-signature (RFC 4880 §5.2.3.6): extending a key
  // is a new certification, the key packet and so the fingerprint stay.
  if (key_expiration != 0) hashed.push_back(key_expiration_subpacket(key_expiration));
  return finish(SignatureType::positive_certification, std::move(hashed), std::move(hasher), options);
}

Signature OpenPgpKey::revoke_key(RevocationReason reason, std::string_view text,
                                 const SignOptions& options) {
  DocumentHasher hasher(options.hash, SignatureType::key_revocation);
  hash_key(hasher, key_);
  return finish(SignatureType::key_revocation, {revocation_reason_subpacket(reason, text)},
                std::move(hasher), options);
}

Bytes make_certificate(OpenPgpKey& key, std::string_view user_id, const SignOptions& options,
                       std::uint32_t key_expiration) {
  Signature self = key.certify_user_id(user_id, kKeyFlagCertify | kKeyFlagSign, options, key_expiration);
  Bytes out = key.public_key().packet();
  put_bytes(out, encode_packet(PacketTag::user_id, as_bytes(user_id)));
  put_bytes(out, self.packet());
  return out;
}

}  // namespace catsign::openpgp
