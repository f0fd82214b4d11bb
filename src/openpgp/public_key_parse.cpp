// SPDX-License-Identifier: Apache-2.0
// Public-key packet, read side (RFC 4880 §5.5.2). Only v4 RSA, ECDSA on P-256 and P-384
// (RFC 6637 §9) and EdDSALegacy on Ed25519 (RFC 9580 §5.5.5.5) are accepted; everything else
// is refused by name, so an operator handed OpenCSW's 2011 DSA keys learns why at once.
#include <algorithm>
#include <string>

#include "byte_reader.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/public_key.hpp"

namespace catsign::openpgp {

namespace {
constexpr std::size_t kMinRsaBits = 1024;

std::string oid_hex(ByteView oid) { return to_hex(oid); }

// ECDSA (RFC 6637 §9): OID length, OID, MPI of the SEC1 uncompressed point. EdDSALegacy
// (RFC 9580 §5.5.5.5): the Ed25519 OID, MPI of 0x40 || the 32-octet point.
void parse_ec_key(detail::ByteReader& r, std::uint8_t algorithm, PublicKey& key) {
  const std::uint8_t oid_len = r.u8("curve OID length");
  if (oid_len == 0 || oid_len == 0xff) r.fail("curve OID length " + std::to_string(oid_len) + " is reserved");
  ByteView oid = r.take(oid_len, "curve OID");
  const bool eddsa = algorithm == static_cast<std::uint8_t>(PublicKeyAlgorithm::eddsa_legacy);
  std::optional<KeyAlgorithm> curve;
  for (KeyAlgorithm a : {KeyAlgorithm::nist_p256, KeyAlgorithm::nist_p384, KeyAlgorithm::ed25519}) {
    ByteView want = curve_oid(a);
    if (std::equal(oid.begin(), oid.end(), want.begin(), want.end())) curve = a;
  }
  if (!curve || eddsa != (*curve == KeyAlgorithm::ed25519)) {
    throw Error(Errc::unsupported, "the key is " + public_key_algorithm_name(algorithm) + " on curve OID " +
                                       oid_hex(oid) +
                                       ": catsign verifies ECDSA on NIST P-256 and P-384 and EdDSA on Ed25519 only");
  }
  Bytes point = r.mpi("EC point", true);
  if (!r.done()) r.fail(std::to_string(r.remaining()) + " unexpected octets after the key");
  key.material.algorithm = *curve;
  if (*curve == KeyAlgorithm::ed25519) {
    if (point.size() != 33 || point[0] != 0x40) r.fail("the Ed25519 point is not 0x40 followed by 32 octets");
    key.material.point.assign(point.begin() + 1, point.end());
    return;
  }
  const std::size_t coordinate = ec_scalar_size(*curve);
  if (point.size() != 1 + 2 * coordinate || point[0] != 0x04)
    r.fail("the EC point is not an uncompressed point (0x04, x, y) of its curve");
  key.material.point = std::move(point);
}

}  // namespace

PublicKey parse_public_key(ByteView body) {
  detail::ByteReader r(body, "public-key packet");
  const std::uint8_t version = r.u8("version");
  if (version != 4) {
    if (version == 2 || version == 3 || version == 5 || version == 6) {
      throw Error(Errc::unsupported, "the key is a version " + std::to_string(version) +
                                         " key: catsign verifies v4 keys only");
    }
    r.fail("unknown key version " + std::to_string(version));
  }
  PublicKey key;
  key.creation_time = r.u32("creation time");
  const std::uint8_t algorithm = r.u8("public-key algorithm");
  if (algorithm == static_cast<std::uint8_t>(PublicKeyAlgorithm::ecdsa) ||
      algorithm == static_cast<std::uint8_t>(PublicKeyAlgorithm::eddsa_legacy)) {
    parse_ec_key(r, algorithm, key);
    return key;
  }
  if (algorithm != static_cast<std::uint8_t>(PublicKeyAlgorithm::rsa)) {
    throw Error(Errc::unsupported, "the key is " + public_key_algorithm_name(algorithm) +
                                       ": catsign verifies RSA, ECDSA and EdDSA keys only");
  }
  key.material.algorithm = KeyAlgorithm::rsa;
  RsaPublicKey& rsa = key.material.rsa;
  rsa.n = r.mpi("RSA modulus n", true);
  rsa.e = r.mpi("RSA exponent e", true);
  if (!r.done()) r.fail(std::to_string(r.remaining()) + " unexpected octets after the key");
  const std::size_t n_bits = (rsa.n.size() - 1) * 8 + 8;  // upper bound is enough here
  if (n_bits < kMinRsaBits) {
    throw Error(Errc::unsupported, "the RSA key has a modulus of about " +
                                       std::to_string(n_bits) +
                                       " bits: catsign accepts RSA keys of 1024 bits or more");
  }
  if ((rsa.e.back() & 1) == 0 || (rsa.e.size() == 1 && rsa.e[0] < 3)) {
    r.fail("the RSA public exponent is invalid");
  }
  if (rsa.e.size() > rsa.n.size()) r.fail("the RSA public exponent is larger than n");
  // An RSA modulus is a product of two odd primes (RFC 8017 §3.1); Botan throws its own
  // exception type on an even one, so it must never get that far.
  if ((rsa.n.back() & 1) == 0) r.fail("the RSA modulus is even");
  return key;
}

}  // namespace catsign::openpgp
