// SPDX-License-Identifier: Apache-2.0
// The cleartext signature framework: a signed message as a verifier receives it.
#include "catsign/openpgp/cleartext.hpp"
#include "catsign/openpgp/document_hasher.hpp"
#include "fuzz.hpp"

using namespace catsign;
using namespace catsign::openpgp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  fuzz::expect_only_error([&] {
    CleartextMessage m = parse_cleartext(text);
    DocumentHasher h(m.hash, SignatureType::text);
    hash_cleartext_text(h, m.text);
    (void)h.data_digest();
  });
  return 0;
}
