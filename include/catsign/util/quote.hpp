// Untrusted text as it may appear in a one-line message: quoted, printable ASCII kept,
// anything else (NUL, newlines, UTF-8 bytes, quotes, backslashes) as \xNN, long input cut
// short. Knows nothing of the product.
#pragma once

#include <string>
#include <string_view>

namespace catsign {

std::string quote_for_message(std::string_view text, std::size_t max_chars = 80);

}  // namespace catsign
