// SPDX-License-Identifier: Apache-2.0
// Transferable public keys: one certificate, and keyrings (armored or binary).
#include "catsign/openpgp/certificate.hpp"
#include "fuzz.hpp"

using namespace catsign;
using namespace catsign::openpgp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView input = fuzz::as_view(data, size);
  fuzz::expect_only_error([&] {
    Certificate c = parse_certificate(input);
    (void)c.revoked();
  });
  fuzz::expect_only_error([&] { parse_keyring(input, false); });
  fuzz::expect_only_error([&] { parse_keyring(input, true); });
  return 0;
}
