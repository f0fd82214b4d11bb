// SPDX-License-Identifier: Apache-2.0
// Transferable public keys, read side (RFC 4880 §11.1). The primary key must be v4 RSA, ECDSA
// or EdDSALegacy. Its
// user IDs count only with a verified self-certification; a verified key revocation by the key
// itself marks it revoked. Third-party certifications, user attributes, subkeys and their
// bindings, trust and marker packets are skipped.
#include <string>
#include <vector>

#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/certificate.hpp"
#include "sig_checks.hpp"

namespace catsign::openpgp {
namespace {

constexpr auto tag_of(PacketTag t) { return static_cast<std::uint8_t>(t); }

std::string at(const Packet& p) { return "byte offset " + std::to_string(p.offset); }

bool is_certification(SignatureType t) {
  return t == SignatureType::generic_certification || t == SignatureType::persona_certification ||
         t == SignatureType::casual_certification || t == SignatureType::positive_certification;
}

// The signature type of a v3 or v4 signature packet body, read without parsing the rest.
std::optional<std::uint8_t> peek_signature_type(const Bytes& body) {
  if (body.size() >= 2 && body[0] == 4) return body[1];
  if (body.size() >= 3 && (body[0] == 2 || body[0] == 3)) return body[2];
  return std::nullopt;
}

Certificate parse_one(const std::vector<Packet>& packets, std::size_t begin, std::size_t end) {
  const Packet& primary = packets[begin];
  Certificate cert;
  cert.key = parse_public_key(primary.body);
  cert.fingerprint = cert.key.fingerprint();
  const Verifier verifier(cert.key.material);

  enum class Owner { key, user_id, other };
  Owner owner = Owner::key;
  std::vector<std::pair<UserIdBinding, bool>> bindings;
  std::string skipped_reason;

  for (std::size_t i = begin + 1; i < end; ++i) {
    const Packet& p = packets[i];
    if (p.tag == tag_of(PacketTag::user_id)) {
      bindings.emplace_back();
      bindings.back().first.user_id.assign(p.body.begin(), p.body.end());
      owner = Owner::user_id;
      continue;
    }
    if (p.tag == tag_of(PacketTag::user_attribute) || p.tag == tag_of(PacketTag::public_subkey)) {
      owner = Owner::other;
      continue;
    }
    if (p.tag == tag_of(PacketTag::secret_key) || p.tag == tag_of(PacketTag::secret_subkey)) {
      throw Error(Errc::malformed, "certificate, " + at(p) +
                                       ": holds secret key material; give catsign the public "
                                       "certificate only");
    }
    if (p.tag != tag_of(PacketTag::signature)) continue;  // trust, marker, unknown: skipped
    if (owner == Owner::other) continue;                   // subkey bindings and the like

    Signature sig;
    try {
      sig = parse_signature(p.body);
    } catch (const Error& e) {
      const auto type = peek_signature_type(p.body);
      if (type && *type == static_cast<std::uint8_t>(SignatureType::key_revocation)) {
        // Dropping a revocation we cannot check would fail open.
        throw Error(Errc::unsupported, "certificate " + format_fingerprint(cert.fingerprint) +
                                           " carries a key revocation catsign cannot check (" +
                                           e.what() + ")");
      }
      if (skipped_reason.empty()) skipped_reason = e.what();
      continue;
    }
    if (sig.type == SignatureType::key_revocation) {
      if (detail::verify_self_signature(cert.key, cert.fingerprint, verifier, sig, nullptr)) {
        cert.revocations.push_back(std::move(sig));
      }
      continue;
    }
    if (owner != Owner::user_id) continue;  // direct-key signatures: nothing catsign uses
    auto& [uid, revoked] = bindings.back();
    if (is_certification(sig.type)) {
      if (detail::verify_self_signature(cert.key, cert.fingerprint, verifier, sig, &uid.user_id)) {
        uid.self_signatures.push_back(std::move(sig));
      } else if (detail::issued_by(sig, cert.fingerprint) && skipped_reason.empty()) {
        skipped_reason = "a self-certification of \"" + uid.user_id + "\" does not verify";
      }
    } else if (sig.type == SignatureType::certification_revocation) {
      if (detail::verify_self_signature(cert.key, cert.fingerprint, verifier, sig, &uid.user_id)) {
        revoked = true;
      }
    }
  }

  for (auto& [uid, revoked] : bindings) {
    if (!revoked && !uid.self_signatures.empty()) cert.user_ids.push_back(std::move(uid));
  }
  if (cert.user_ids.empty()) {
    std::string message = "certificate " + format_fingerprint(cert.fingerprint) +
                          " has no user ID with a valid self-certification";
    if (!skipped_reason.empty()) message += " (" + skipped_reason + ")";
    throw Error(Errc::bad_signature, message);
  }
  return cert;
}

std::vector<Packet> certificate_packets(ByteView data) {
  if (!looks_armored(data)) return parse_packets(data);
  std::vector<Packet> all;
  const auto blocks =
      dearmor_all(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  for (const auto& block : blocks) {
    if (block.kind != ArmorKind::public_key) {
      throw Error(Errc::malformed, std::string("certificate: expected a PGP PUBLIC KEY BLOCK, "
                                               "found a ") +
                                       armor_label(block.kind));
    }
    auto packets = parse_packets(block.data);
    all.insert(all.end(), std::make_move_iterator(packets.begin()),
               std::make_move_iterator(packets.end()));
  }
  return all;
}

}  // namespace

const Signature* Certificate::newest_self_signature() const noexcept {
  const Signature* newest = nullptr;
  std::uint32_t newest_time = 0;
  for (const auto& uid : user_ids) {
    for (const auto& sig : uid.self_signatures) {
      const auto t = detail::hashed_time(sig, SubpacketType::creation_time).value_or(0);
      if (!newest || t >= newest_time) {
        newest = &sig;
        newest_time = t;
      }
    }
  }
  return newest;
}

std::optional<std::uint64_t> Certificate::expires_at() const noexcept {
  const Signature* self = newest_self_signature();
  if (!self) return std::nullopt;
  const auto seconds = detail::hashed_time(*self, SubpacketType::key_expiration_time);
  if (!seconds || *seconds == 0) return std::nullopt;
  return std::uint64_t{key.creation_time} + *seconds;
}

std::vector<Certificate> parse_keyring(ByteView data, bool skip_unsupported) {
  const std::vector<Packet> packets = certificate_packets(data);
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const Packet& p = packets[i];
    if (p.tag == tag_of(PacketTag::public_key)) {
      starts.push_back(i);
    } else if (p.tag == tag_of(PacketTag::secret_key)) {
      throw Error(Errc::malformed, "certificate, " + at(p) +
                                       ": a secret key; give catsign the public certificate only");
    } else if (starts.empty() && p.tag != tag_of(PacketTag::marker) &&
               p.tag != tag_of(PacketTag::trust)) {
      throw Error(Errc::malformed, "certificate, " + at(p) + ": expected a public-key packet, "
                                       "found packet tag " + std::to_string(p.tag));
    }
  }
  if (starts.empty()) throw Error(Errc::malformed, "certificate: no public key in the input");
  std::vector<Certificate> certs;
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const std::size_t end = k + 1 < starts.size() ? starts[k + 1] : packets.size();
    try {
      certs.push_back(parse_one(packets, starts[k], end));
    } catch (const Error& e) {
      if (!(skip_unsupported && e.code() == Errc::unsupported)) throw;
    }
  }
  return certs;
}

Certificate parse_certificate(ByteView data) {
  std::vector<Certificate> certs = parse_keyring(data, false);
  if (certs.size() != 1) {
    throw Error(Errc::malformed, "certificate: expected one certificate, found " +
                                     std::to_string(certs.size()) + "; this looks like a keyring");
  }
  return std::move(certs.front());
}

Signature parse_revocation_for(const Certificate& cert, ByteView data) {
  Bytes binary;
  if (looks_armored(data)) {
    Dearmored d =
        dearmor(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    if (d.kind != ArmorKind::signature && d.kind != ArmorKind::public_key) {
      throw Error(Errc::malformed, std::string("revocation: unexpected armor label ") +
                                       armor_label(d.kind));
    }
    binary = std::move(d.data);
  } else {
    binary.assign(data.begin(), data.end());
  }
  const std::vector<Packet> packets = parse_packets(binary);
  if (packets.size() != 1 || packets[0].tag != tag_of(PacketTag::signature)) {
    throw Error(Errc::malformed, "revocation: expected exactly one signature packet, found " +
                                     std::to_string(packets.size()) + " packet(s)");
  }
  Signature sig = parse_signature(packets[0].body);
  if (sig.type != SignatureType::key_revocation) {
    throw Error(Errc::malformed, "revocation: the signature is of type 0x" +
                                     to_hex(ByteView(reinterpret_cast<const std::uint8_t*>(&sig.type), 1)) +
                                     ", not a key revocation (0x20)");
  }
  if (!detail::issued_by(sig, cert.fingerprint)) {
    throw Error(Errc::bad_signature, "revocation: not issued by key " +
                                         format_fingerprint(cert.fingerprint));
  }
  const Verifier verifier(cert.key.material);
  if (!detail::verify_self_signature(cert.key, cert.fingerprint, verifier, sig, nullptr)) {
    throw Error(Errc::bad_signature, "revocation: the signature does not verify against key " +
                                         format_fingerprint(cert.fingerprint));
  }
  return sig;
}

}  // namespace catsign::openpgp
