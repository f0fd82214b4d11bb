// SPDX-License-Identifier: Apache-2.0
#include "catsign/util/quote.hpp"

#include <cstdio>

namespace catsign {

std::string quote_for_message(std::string_view text, std::size_t max_chars, char quote) {
  std::string out(1, quote);
  std::size_t n = 0;
  for (char c : text) {
    if (n++ == max_chars) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != quote && c != '\\') {
      out += c;
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  return out + quote;
}

}  // namespace catsign
