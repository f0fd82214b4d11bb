// SPDX-License-Identifier: Apache-2.0
// Shared by the libFuzzer targets in this folder. Each target hands the input to one parser
// family; catsign::Error is the parser refusing the input, which is what it should do. Any
// other exception, an ASan report or a UBSan report is a bug: the process aborts, libFuzzer
// saves the input, and scripts/fuzz asks for a regression test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "catsign/error.hpp"
#include "catsign/util/bytes.hpp"

namespace catsign::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline ByteView as_view(const std::uint8_t* data, std::size_t size) { return {data, size}; }

// A property the parser promises (a round trip, say) does not hold: report and abort, so the
// input is kept like any crash.
[[noreturn]] inline void broken(const char* what) {
  std::fprintf(stderr, "catsign fuzz: property broken: %s\n", what);
  std::abort();
}

// Runs `body`; a catsign::Error is an expected refusal.
template <typename F>
void expect_only_error(F&& body) {
  try {
    body();
  } catch (const Error&) {
  }
}

}  // namespace catsign::fuzz
