// SPDX-License-Identifier: Apache-2.0
// Public-key packet, read side (RFC 4880 §5.5.2). Only v4 RSA is accepted; everything else is
// refused by name, so an operator handed OpenCSW's 2011 DSA keys learns why at once.
#include <string>

#include "byte_reader.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/public_key.hpp"

namespace catsign::openpgp {

namespace {
constexpr std::size_t kMinRsaBits = 1024;
}

PublicKey parse_public_key(ByteView body) {
  detail::ByteReader r(body, "public-key packet");
  const std::uint8_t version = r.u8("version");
  if (version != 4) {
    if (version == 2 || version == 3 || version == 5 || version == 6) {
      throw Error(Errc::unsupported, "the key is a version " + std::to_string(version) +
                                         " key: catsign verifies v4 RSA keys only");
    }
    r.fail("unknown key version " + std::to_string(version));
  }
  PublicKey key;
  key.creation_time = r.u32("creation time");
  const std::uint8_t algorithm = r.u8("public-key algorithm");
  if (algorithm != static_cast<std::uint8_t>(PublicKeyAlgorithm::rsa)) {
    throw Error(Errc::unsupported, "the key is " + public_key_algorithm_name(algorithm) +
                                       ": catsign verifies RSA keys only");
  }
  key.rsa.n = r.mpi("RSA modulus n", true);
  key.rsa.e = r.mpi("RSA exponent e", true);
  if (!r.done()) r.fail(std::to_string(r.remaining()) + " unexpected octets after the key");
  const std::size_t n_bits = (key.rsa.n.size() - 1) * 8 + 8;  // upper bound is enough here
  if (n_bits < kMinRsaBits) {
    throw Error(Errc::unsupported, "the RSA key has a modulus of about " +
                                       std::to_string(n_bits) +
                                       " bits: catsign accepts RSA keys of 1024 bits or more");
  }
  if ((key.rsa.e.back() & 1) == 0 || (key.rsa.e.size() == 1 && key.rsa.e[0] < 3)) {
    r.fail("the RSA public exponent is invalid");
  }
  if (key.rsa.e.size() > key.rsa.n.size()) r.fail("the RSA public exponent is larger than n");
  // An RSA modulus is a product of two odd primes (RFC 8017 §3.1); Botan throws its own
  // exception type on an even one, so it must never get that far.
  if ((key.rsa.n.back() & 1) == 0) r.fail("the RSA modulus is even");
  return key;
}

}  // namespace catsign::openpgp
