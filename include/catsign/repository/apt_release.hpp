// SPDX-License-Identifier: Apache-2.0
// An apt Release file's SHA256 field: the files of dists/<suite>/ the Release vouches for.
// Release is one deb822 paragraph (Debian Policy §5.1: "Field: value" lines, continuation lines
// starting with a space or tab); SHA256 is a multi-line field whose lines are
// "<64 hex> <size> <path>", the path relative to the Release's folder (see the Debian
// repository format, "Release files").
#pragma once

#include <string_view>
#include <vector>

#include "catsign/repository/listed_files.hpp"

namespace catsign::repository {

// Every entry of the SHA256 field. Error(malformed), one line naming the line number, when the
// text is not one deb822 paragraph (a line that is neither a field nor a continuation, a
// continuation first, a second paragraph, a NUL or CR byte, a field named twice), has no
// SHA256 field or an empty one, or an entry is not 64 hex digits, a size and a plain relative
// path (listed_path_ok), or names a path twice. Field names compare case-insensitively.
std::vector<ListedFile> parse_apt_release(std::string_view text);

}  // namespace catsign::repository
