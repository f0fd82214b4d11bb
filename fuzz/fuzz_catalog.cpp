// SPDX-License-Identifier: Apache-2.0
// OpenCSW catalogs, plain or cleartext-signed.
#include "catsign/catalog/opencsw_catalog.hpp"
#include "fuzz.hpp"

using namespace catsign;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_only_error([&] {
    catalog::OpenCswCatalog c = catalog::parse_opencsw_catalog(fuzz::as_text(data, size));
    (void)c.header("CREATIONDATE");
  });
  return 0;
}
