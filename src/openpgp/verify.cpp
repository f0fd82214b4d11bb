// SPDX-License-Identifier: Apache-2.0
// Verification of document signatures (RFC 4880 §5.2.4). Fails closed: every rule that does
// not hold ends in Error(bad_signature) naming the rule.
#include <ctime>
#include <string>

#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/cleartext.hpp"
#include "catsign/openpgp/verify.hpp"
#include "sig_checks.hpp"

namespace catsign::openpgp {
namespace {

[[noreturn]] void bad(const std::string& what) {
  throw Error(Errc::bad_signature, "BAD signature: " + what);
}

std::string packet_name(std::uint8_t tag) {
  switch (tag) {
    case 1: return "an encrypted session key";
    case 4: return "a one-pass signature (a signed message, not a detached signature)";
    case 6: return "a public key";
    case 8: return "compressed data (a signed message, not a detached signature)";
    case 11: return "literal data";
    default: return "packet tag " + std::to_string(tag);
  }
}

}  // namespace

Signature read_document_signature(ByteView signature_data) {
  if (signature_data.empty()) throw Error(Errc::malformed, "signature: the input is empty");
  const Bytes binary = dearmor_if_needed(signature_data, ArmorKind::signature);
  const std::vector<Packet> packets = parse_packets(binary);
  if (packets.size() != 1) {
    throw Error(Errc::malformed, "signature: expected exactly one signature packet, found " +
                                     std::to_string(packets.size()) + " packets");
  }
  if (packets[0].tag != static_cast<std::uint8_t>(PacketTag::signature)) {
    throw Error(Errc::malformed,
                "signature: expected a signature packet, found " + packet_name(packets[0].tag));
  }
  Signature sig = parse_signature(packets[0].body);
  if (sig.type != SignatureType::binary && sig.type != SignatureType::text) {
    throw Error(Errc::malformed, "signature: not a document signature (type 0x" +
                                     to_hex(ByteView(reinterpret_cast<const std::uint8_t*>(&sig.type), 1)) +
                                     ")");
  }
  return sig;
}

Verified verify_document(const Certificate& cert, const Signature& signature,
                         const std::function<void(DocumentHasher&)>& feed) {
  const Verifier verifier(cert.key.material);
  return verify_document(cert, verifier, signature, feed);
}

namespace {

// Everything but the hash and the signature check; returns the signature's creation time.
std::uint32_t check_before_hashing(const Certificate& cert, const Signature& signature) {
  const std::string key_name = format_fingerprint(cert.fingerprint);
  if (cert.revoked()) bad("the key " + key_name + " is revoked");
  if (signature.type != SignatureType::binary && signature.type != SignatureType::text) {
    bad("not a document signature");
  }
  const KeyAlgorithm algorithm = cert.key.material.algorithm;
  if (signature.public_key_algorithm != openpgp_algorithm(algorithm)) {
    bad("a " + public_key_algorithm_name(signature.public_key_algorithm) + " signature, but the key " + key_name +
        " is " + cert.key.material.describe());
  }
  if (!hash_fits(algorithm, signature.hash)) {
    // gpgv refuses the same ("requires a 384 bit or larger hash"): a short hash wastes the curve.
    bad(std::string("a ") + hash_name(signature.hash) + " signature by a " + cert.key.material.describe() +
        " key: the curve needs a hash of at least 384 bits");
  }
  if (auto fp = signature.issuer_fingerprint(); fp && *fp != cert.fingerprint) {
    bad("made by key " + format_fingerprint(*fp) + ", not by " + key_name);
  }
  if (auto id = signature.issuer_key_id();
      id && !std::equal(id->begin(), id->end(), cert.fingerprint.end() - 8,
                        cert.fingerprint.end())) {
    bad("made by key ID " + format_key_id(*id) + ", not by " + key_name);
  }
  if (!signature.issuer_fingerprint() && !signature.issuer_key_id()) {
    bad("the signature names no issuer");
  }
  const auto created = detail::hashed_time(signature, SubpacketType::creation_time);
  if (!created) bad("the signature carries no (hashed) creation time");
  if (*created < cert.key.creation_time) bad("the signature is older than the key");
  if (auto critical = detail::unknown_critical(signature, false)) {
    bad("the signature has an unknown " + *critical);
  }
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  if (auto expires = detail::hashed_time(signature, SubpacketType::expiration_time);
      expires && *expires != 0 && std::uint64_t{*created} + *expires <= now) {
    bad("the signature has expired");
  }
  if (const Signature* self = cert.newest_self_signature()) {
    if (auto key_expires = detail::hashed_time(*self, SubpacketType::key_expiration_time);
        key_expires && *key_expires != 0 &&
        std::uint64_t{*created} >= std::uint64_t{cert.key.creation_time} + *key_expires) {
      bad("the signature was made after the key " + key_name + " expired");
    }
    if (const Subpacket* flags = detail::hashed_subpacket(*self, SubpacketType::key_flags);
        flags && (flags->body.empty() || (flags->body[0] & kKeyFlagSign) == 0)) {
      bad("the key " + key_name + " is not certified for signing");
    }
  }
  return *created;
}

Verified verified(const Certificate& cert, const Signature& signature, std::uint32_t created,
                  DocumentHasher&& hasher, const Verifier& verifier) {
  if (!detail::digest_and_verify(std::move(hasher), signature, verifier)) {
    bad("the signature does not match the data (the data or the signature was changed, or "
        "it was made by another key)");
  }
  Verified v;
  v.signer = cert.fingerprint;
  v.creation_time = created;
  v.type = signature.type;
  v.hash = signature.hash;
  v.notations = signature.notations();
  return v;
}

}  // namespace

Verified verify_document(const Certificate& cert, const Verifier& verifier,
                         const Signature& signature,
                         const std::function<void(DocumentHasher&)>& feed) {
  const std::uint32_t created = check_before_hashing(cert, signature);
  DocumentHasher hasher(signature.hash, signature.type);
  feed(hasher);
  return verified(cert, signature, created, std::move(hasher), verifier);
}

Verified verify_document(const Certificate& cert, const Verifier& verifier,
                         const Signature& signature, DocumentHasher&& fed) {
  const std::uint32_t created = check_before_hashing(cert, signature);
  if (fed.hash() != signature.hash || fed.type() != signature.type)
    bad("the data was hashed for another hash or signature type than the signature's");
  return verified(cert, signature, created, std::move(fed), verifier);
}

Verified verify_detached(const Certificate& cert, ByteView signature_data, ByteView data) {
  const Signature sig = read_document_signature(signature_data);
  return verify_document(cert, sig, [&](DocumentHasher& h) { h.update(data); });
}

Verified verify_cleartext(const Certificate& cert, std::string_view message,
                          std::string* text_out) {
  CleartextMessage msg = parse_cleartext(message);
  const Signature sig = read_document_signature(msg.signature);
  if (sig.type != SignatureType::text) {
    bad("a cleartext signature must be a text (0x01) signature");
  }
  if (std::find(msg.hashes.begin(), msg.hashes.end(), sig.hash) == msg.hashes.end()) {
    bad(std::string("the Hash: header does not name ") + hash_name(sig.hash) +
        ", the hash the signature uses");
  }
  Verified v = verify_document(cert, sig, [&](DocumentHasher& h) { hash_cleartext_text(h, msg.text); });
  if (text_out) *text_out = std::move(msg.text);
  return v;
}

}  // namespace catsign::openpgp
