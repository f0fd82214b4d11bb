// SPDX-License-Identifier: Apache-2.0
// Catalog tuples (release/arch/osrel), as a SIGN request names them.
#include "catsign/catalog/tuple.hpp"
#include "fuzz.hpp"

using namespace catsign;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const CatalogsConfig config = [] {
    CatalogsConfig c;
    c.releases = {"unstable", "testing", "bratislava", "dublin", "kiel", "munich"};
    c.arches = {"sparc", "i386"};
    c.osrels = {"5.8", "5.9", "5.10", "5.11"};
    return c;
  }();
  fuzz::expect_only_error([&] {
    catalog::Tuple t = catalog::parse_tuple(fuzz::as_text(data, size), config);
    if (t.str() != fuzz::as_text(data, size)) fuzz::broken("a parsed tuple is not its own text");
    if (t.catalog_path().find("..") != std::string::npos) fuzz::broken("a tuple path with ..");
  });
  return 0;
}
