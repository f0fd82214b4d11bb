// SPDX-License-Identifier: Apache-2.0
// Signature packet, read side (RFC 4880 §5.2.3). v4 RSA, ECDSA or EdDSALegacy with SHA-256,
// SHA-384 or SHA-512 only; every other version or algorithm is refused by name. Subpacket lengths use the §5.2.3.1 forms and
// are checked against the area that holds them.
#include <algorithm>
#include <string>

#include "byte_reader.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/signature.hpp"
#include "hash_names.hpp"

namespace catsign::openpgp {
namespace {

std::vector<Subpacket> parse_subpacket_area(ByteView area, const char* which) {
  detail::ByteReader r(area, std::string(which) + " subpacket area");
  std::vector<Subpacket> out;
  while (!r.done()) {
    const std::uint8_t first = r.u8("subpacket length");
    std::size_t length = 0;
    if (first < 192) {
      length = first;
    } else if (first < 255) {
      length = (static_cast<std::size_t>(first - 192) << 8) + r.u8("subpacket length") + 192;
    } else {
      length = r.u32("subpacket length");
    }
    if (length == 0) r.fail("subpacket of length 0 has no type");
    if (length > r.remaining()) {
      r.fail("subpacket length " + std::to_string(length) + " runs past the area (" +
             std::to_string(r.remaining()) + " octets left)");
    }
    const std::uint8_t type = r.u8("subpacket type");
    Subpacket sp;
    sp.critical = (type & 0x80) != 0;
    sp.type = type & 0x7f;
    ByteView body = r.take(length - 1, "subpacket body");
    sp.body.assign(body.begin(), body.end());
    out.push_back(std::move(sp));
  }
  return out;
}

}  // namespace

Signature parse_signature(ByteView body) {
  detail::ByteReader r(body, "signature packet");
  const std::uint8_t version = r.u8("version");
  if (version != 4) {
    if (version == 2 || version == 3 || version == 5 || version == 6) {
      throw Error(Errc::unsupported, "the signature is a version " + std::to_string(version) +
                                         " signature: catsign verifies v4 signatures only");
    }
    r.fail("unknown signature version " + std::to_string(version));
  }
  Signature sig;
  sig.type = static_cast<SignatureType>(r.u8("signature type"));
  sig.public_key_algorithm = r.u8("public-key algorithm");
  const bool rsa = sig.public_key_algorithm == static_cast<std::uint8_t>(PublicKeyAlgorithm::rsa);
  if (!rsa && sig.public_key_algorithm != static_cast<std::uint8_t>(PublicKeyAlgorithm::ecdsa) &&
      sig.public_key_algorithm != static_cast<std::uint8_t>(PublicKeyAlgorithm::eddsa_legacy)) {
    throw Error(Errc::unsupported,
                public_key_algorithm_name(sig.public_key_algorithm) +
                    " signatures are not supported: catsign verifies RSA, ECDSA and EdDSA signatures only");
  }
  const std::uint8_t hash_id = r.u8("hash algorithm");
  const auto hash = detail::accepted_hash(hash_id);
  if (!hash) {
    throw Error(Errc::unsupported, detail::hash_id_name(hash_id) +
                                       " signatures are not accepted: catsign accepts SHA256, "
                                       "SHA384 and SHA512 only");
  }
  sig.hash = *hash;

  const std::size_t hashed_start = r.offset();
  const std::uint16_t hashed_len = r.u16("hashed subpacket length");
  ByteView hashed_area = r.take(hashed_len, "hashed subpacket area");
  ByteView hashed_raw = body.subspan(hashed_start, 2u + hashed_len);
  sig.hashed = parse_subpacket_area(hashed_area, "hashed");
  const std::uint16_t unhashed_len = r.u16("unhashed subpacket length");
  sig.unhashed = parse_subpacket_area(r.take(unhashed_len, "unhashed subpacket area"), "unhashed");
  ByteView left = r.take(2, "left 16 bits of the digest");
  sig.hash_left16 = {left[0], left[1]};
  if (rsa) {
    sig.mpis.push_back(r.mpi("RSA signature", false));
  } else {
    // RFC 9580 §5.2.3.3 and §5.2.3.4: two MPIs, r and s (ECDSA) or R and S (EdDSALegacy).
    sig.mpis.push_back(r.mpi("signature value r", false));
    sig.mpis.push_back(r.mpi("signature value s", false));
  }
  if (!r.done()) r.fail(std::to_string(r.remaining()) + " unexpected octets after the signature");
  for (const Bytes& m : sig.mpis)
    if (m.empty()) r.fail("a signature value is zero");

  // What is hashed is re-encoded from the parsed subpackets (Signature::hashed_part), so the
  // area must be in the one encoding catsign writes: the shortest length form of §5.2.3.1.
  // (GnuPG also switches to five octets from 8384; no signature it makes has such a subpacket.)
  const Bytes reencoded = encode_subpackets(sig.hashed);
  if (!std::equal(reencoded.begin(), reencoded.end(), hashed_raw.begin(), hashed_raw.end())) {
    throw Error(Errc::unsupported,
                "the signature's hashed subpackets use a length encoding that is not the "
                "shortest form, which catsign does not verify");
  }
  return sig;
}

}  // namespace catsign::openpgp
