// SPDX-License-Identifier: Apache-2.0
// A catalog tuple, release/arch/osrel (docs/DESIGN.md "The path of one signature"): the only way a client names what the
// daemon signs. Each part must equal one of the configured values exactly.
#pragma once

#include <string>
#include <string_view>

#include "catsign/config.hpp"

namespace catsign::catalog {

struct Tuple {
  std::string release;
  std::string arch;
  std::string osrel;

  std::string str() const { return release + "/" + arch + "/" + osrel; }
  // "<release>/<arch>/<osrel>/catalog", relative to [catalogs] root.
  std::string catalog_path() const { return str() + "/catalog"; }
  bool operator==(const Tuple&) const = default;
};

// Parses "release/arch/osrel". Syntax errors (not three parts, empty parts, characters outside
// [A-Za-z0-9._-], "." or "..", the whole text over 64 characters) throw Error(malformed); a
// well-formed tuple naming a release, arch or osrel not in the config throws Error(refused)
// naming the part and the configured values. Comparison is exact and case-sensitive. Syntax
// is checked before the config, so an odd configured value ("..") can never be reached.
// Messages are one line: rejected input is quoted with non-printable bytes as \xNN and cut
// short, so they are safe in an ERR reply or a log.
Tuple parse_tuple(std::string_view text, const CatalogsConfig& config);

}  // namespace catsign::catalog
