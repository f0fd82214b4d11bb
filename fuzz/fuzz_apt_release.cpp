// SPDX-License-Identifier: Apache-2.0
// apt Release files, as verify_listed_files reads them before signing.
#include "catsign/repository/apt_release.hpp"
#include "fuzz.hpp"

using namespace catsign;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_only_error([&] {
    for (const repository::ListedFile& f : repository::parse_apt_release(fuzz::as_text(data, size))) {
      if (!repository::listed_path_ok(f.path)) fuzz::broken("a listed path that is not plain");
      if (f.digest.size() != 32 || f.hash != "SHA-256") fuzz::broken("a SHA256 entry without a SHA-256 digest");
    }
  });
  return 0;
}
