// SPDX-License-Identifier: Apache-2.0
// The TOML configuration file.
#include "catsign/config.hpp"
#include "fuzz.hpp"

using namespace catsign;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_only_error([&] {
    Config c = parse_config(fuzz::as_text(data, size), "/etc/catsign/catsign.toml");
    (void)c.key(std::nullopt);
  });
  return 0;
}
