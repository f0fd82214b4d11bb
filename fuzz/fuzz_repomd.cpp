// SPDX-License-Identifier: Apache-2.0
// rpm repodata/repomd.xml through expat, as verify_listed_files reads it before signing.
#include "catsign/repository/repomd.hpp"
#include "fuzz.hpp"

using namespace catsign;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_only_error([&] {
    for (const repository::ListedFile& f : repository::parse_repomd(fuzz::as_text(data, size))) {
      if (!repository::listed_path_ok(f.path)) fuzz::broken("a listed path that is not plain");
      const std::size_t want = f.hash == "SHA-224" ? 28 : f.hash == "SHA-256" ? 32 : f.hash == "SHA-384" ? 48 : 64;
      if (f.digest.size() != want) fuzz::broken("a digest whose length is not its hash's");
    }
  });
  return 0;
}
