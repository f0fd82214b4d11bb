// SPDX-License-Identifier: Apache-2.0
// OpenCSW catalogs (docs/DESIGN.md "Facts"): one package per line, 9 fields separated by single spaces
// (old catalogs have 8), "#" header lines such as "# CREATIONDATE 2014-03-16T08:39:58Z".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace catsign::catalog {

struct CatalogEntry {
  std::size_t line = 0;           // 1-based line number in the catalog text
  std::string catalogname;        // e.g. "9menu"
  std::string version;            // e.g. "1.8,REV=2006.05.19"
  std::string pkgname;            // e.g. "CSW9menu"
  std::string file;               // e.g. "9menu-1.8,REV=2006.05.19-SunOS5.8-sparc-CSW.pkg.gz"
  std::string md5;                // 32 hex digits, stored lowercase
  std::uint64_t size = 0;         // bytes
  std::vector<std::string> depends;      // "none" -> empty
  std::string category;                  // as written: "none", "eng|fun|lib"
  std::vector<std::string> i_depends;    // 9-field catalogs only; "none" -> empty
  bool nine_fields = false;
};

struct OpenCswCatalog {
  std::vector<std::pair<std::string, std::string>> headers;  // "# KEY value", in order
  std::vector<CatalogEntry> entries;
  std::string header(std::string_view key) const;            // "" when absent
};

// Parses a plain catalog, or a cleartext-signed one through its signature framing (the text
// is taken from inside the framing; the signature is NOT checked here; line numbers are still
// those of the file). Every rule is checked: field count (8 or 9, the same for every line),
// md5 as 32 hex digits, size as a decimal number (no sign, fits 64 bits), file names without
// '/' or "..", dependency lists "none" or CSWa|CSWb, catalog names and package names unique,
// printable ASCII only. Empty lines and CR LF line endings are refused (catalogs, signed or
// not, are LF text; a CR would end up inside the last field). "#" lines are headers, kept in
// order: "# KEY value". Error(malformed) names the line number and the field: "catalog line
// 17, field 5 (md5): 'xyz' is not 32 hex digits".
OpenCswCatalog parse_opencsw_catalog(std::string_view text);

}  // namespace catsign::catalog
