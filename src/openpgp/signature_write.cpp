// SPDX-License-Identifier: Apache-2.0
// Serialisation of v4 signatures and the accessors over their subpackets.
#include <algorithm>

#include "catsign/error.hpp"
#include "catsign/openpgp/signature.hpp"

namespace catsign::openpgp {

namespace {

// Subpacket length forms (RFC 4880 §5.2.3.1); the length counts the type octet too.
void put_subpacket_length(Bytes& out, std::size_t n) {
  if (n < 192) {
    put_u8(out, static_cast<std::uint8_t>(n));
  } else if (n < 16320) {
    std::size_t m = n - 192;
    put_u8(out, static_cast<std::uint8_t>((m >> 8) + 192));
    put_u8(out, static_cast<std::uint8_t>(m));
  } else {
    put_u8(out, 0xff);
    put_u32(out, static_cast<std::uint32_t>(n));
  }
}

std::uint32_t read_u32(ByteView b) {
  return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
}

const Subpacket* find(const std::vector<Subpacket>& area, SubpacketType type, std::size_t size) {
  for (const Subpacket& s : area)
    if (s.type == static_cast<std::uint8_t>(type) && s.body.size() == size) return &s;
  return nullptr;
}

}  // namespace

Bytes encode_subpackets(const std::vector<Subpacket>& subpackets) {
  Bytes area;
  for (const Subpacket& s : subpackets) {
    put_subpacket_length(area, s.body.size() + 1);
    put_u8(area, static_cast<std::uint8_t>(s.type | (s.critical ? 0x80 : 0)));
    put_bytes(area, s.body);
  }
  if (area.size() > 0xffff) throw Error(Errc::internal, "subpacket area too large");
  Bytes out;
  put_u16(out, static_cast<std::uint16_t>(area.size()));
  put_bytes(out, area);
  return out;
}

Bytes Signature::hashed_part() const {
  // RFC 4880 §5.2.3: version, type, public-key algorithm, hash algorithm, hashed subpackets.
  Bytes out;
  put_u8(out, 4);
  put_u8(out, static_cast<std::uint8_t>(type));
  put_u8(out, public_key_algorithm);
  put_u8(out, static_cast<std::uint8_t>(hash));
  put_bytes(out, encode_subpackets(hashed));
  return out;
}

Bytes Signature::trailer() const {
  // RFC 4880 §5.2.4: version, 0xFF, and the length of the hashed part as four octets.
  Bytes out;
  put_u8(out, 4);
  put_u8(out, 0xff);
  put_u32(out, static_cast<std::uint32_t>(hashed_part().size()));
  return out;
}

Bytes Signature::body() const {
  Bytes out = hashed_part();
  put_bytes(out, encode_subpackets(unhashed));
  put_bytes(out, hash_left16);
  for (const Bytes& m : mpis) append_mpi(out, m);
  return out;
}

std::optional<std::uint32_t> Signature::creation_time() const {
  if (const Subpacket* s = find(hashed, SubpacketType::creation_time, 4)) return read_u32(s->body);
  return std::nullopt;
}

std::optional<Fingerprint> Signature::issuer_fingerprint() const {
  for (const auto* area : {&hashed, &unhashed}) {
    // RFC 9580 §5.2.3.35: key version octet, then the fingerprint (20 octets for v4).
    if (const Subpacket* s = find(*area, SubpacketType::issuer_fingerprint, 21); s && s->body[0] == 4) {
      Fingerprint fp{};
      std::copy(s->body.begin() + 1, s->body.end(), fp.begin());
      return fp;
    }
  }
  return std::nullopt;
}

std::optional<KeyId> Signature::issuer_key_id() const {
  for (const auto* area : {&hashed, &unhashed}) {
    if (const Subpacket* s = find(*area, SubpacketType::issuer_key_id, 8)) {
      KeyId id{};
      std::copy(s->body.begin(), s->body.end(), id.begin());
      return id;
    }
  }
  return std::nullopt;
}

std::vector<Notation> Signature::notations() const {
  // RFC 4880 §5.2.3.16: four flag octets, name length, value length, name, value.
  std::vector<Notation> out;
  for (const Subpacket& s : hashed) {
    if (s.type != static_cast<std::uint8_t>(SubpacketType::notation) || s.body.size() < 8) continue;
    std::size_t name_len = std::size_t{s.body[4]} << 8 | s.body[5];
    std::size_t value_len = std::size_t{s.body[6]} << 8 | s.body[7];
    if (8 + name_len + value_len != s.body.size()) continue;
    Notation n;
    n.human_readable = (s.body[0] & 0x80) != 0;
    n.name.assign(s.body.begin() + 8, s.body.begin() + 8 + static_cast<std::ptrdiff_t>(name_len));
    n.value.assign(s.body.begin() + 8 + static_cast<std::ptrdiff_t>(name_len), s.body.end());
    out.push_back(std::move(n));
  }
  return out;
}

Subpacket creation_time_subpacket(std::uint32_t t) {
  Subpacket s{static_cast<std::uint8_t>(SubpacketType::creation_time), false, {}};
  put_u32(s.body, t);
  return s;
}

Subpacket issuer_key_id_subpacket(const KeyId& id) {
  return {static_cast<std::uint8_t>(SubpacketType::issuer_key_id), false, Bytes(id.begin(), id.end())};
}

Subpacket issuer_fingerprint_subpacket(const Fingerprint& fp) {
  Subpacket s{static_cast<std::uint8_t>(SubpacketType::issuer_fingerprint), false, {4}};
  put_bytes(s.body, fp);
  return s;
}

Subpacket notation_subpacket(const Notation& n) {
  if (n.name.size() > 0xffff || n.value.size() > 0xffff)
    throw Error(Errc::internal, "notation too long");
  Subpacket s{static_cast<std::uint8_t>(SubpacketType::notation), false, {}};
  put_u8(s.body, n.human_readable ? 0x80 : 0);
  put_u8(s.body, 0);
  put_u8(s.body, 0);
  put_u8(s.body, 0);
  put_u16(s.body, static_cast<std::uint16_t>(n.name.size()));
  put_u16(s.body, static_cast<std::uint16_t>(n.value.size()));
  put_bytes(s.body, as_bytes(n.name));
  put_bytes(s.body, as_bytes(n.value));
  return s;
}

Subpacket key_flags_subpacket(std::uint8_t flags) {
  return {static_cast<std::uint8_t>(SubpacketType::key_flags), false, {flags}};
}

Subpacket key_expiration_subpacket(std::uint32_t seconds_after_creation) {
  Subpacket s{static_cast<std::uint8_t>(SubpacketType::key_expiration_time), false, {}};
  put_u32(s.body, seconds_after_creation);
  return s;
}

Subpacket preferred_hash_subpacket(std::initializer_list<HashAlgorithm> order) {
  Subpacket s{static_cast<std::uint8_t>(SubpacketType::preferred_hash), false, {}};
  for (HashAlgorithm h : order) put_u8(s.body, static_cast<std::uint8_t>(h));
  return s;
}

Subpacket revocation_reason_subpacket(RevocationReason reason, std::string_view text) {
  Subpacket s{static_cast<std::uint8_t>(SubpacketType::revocation_reason), false, {}};
  put_u8(s.body, static_cast<std::uint8_t>(reason));
  put_bytes(s.body, as_bytes(text));
  return s;
}

}  // namespace catsign::openpgp
