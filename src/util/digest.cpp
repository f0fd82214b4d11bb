// SPDX-License-Identifier: Apache-2.0
#include "catsign/util/digest.hpp"

#include <botan/hash.h>

namespace catsign {

Bytes sha256(ByteView data) {
  auto h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(data.data(), data.size());
  return h->final_stdvec();
}

std::string sha256_hex(ByteView data) { return to_hex(sha256(data)); }

}  // namespace catsign
