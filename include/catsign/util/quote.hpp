// SPDX-License-Identifier: Apache-2.0
// Untrusted text as it may appear in a one-line message: quoted, printable ASCII kept,
// anything else (NUL, newlines, UTF-8 bytes, quotes, backslashes) as \xNN, long input cut
// short. Knows nothing of the product.
#pragma once

#include <string>
#include <string_view>

namespace catsign {

// `quote` is the quote character: ' for paths and fields, " for names a device reports (token
// and key labels), as PKCS#11 tools print them.
std::string quote_for_message(std::string_view text, std::size_t max_chars = 80, char quote = '\'');

// A name a device reports (a token or key label), quoted the way PKCS#11 tools print it.
inline std::string quote_label(std::string_view label) { return quote_for_message(label, 80, '"'); }

}  // namespace catsign
