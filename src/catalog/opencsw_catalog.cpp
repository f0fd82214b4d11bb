// SPDX-License-Identifier: Apache-2.0
// OpenCSW catalogs, read side (docs/DESIGN.md "Facts"). Strict: every rule of the format is checked and
// the first line that breaks one is refused with its line number and field, so a catalog that
// would confuse pkgutil is never signed.
#include "catsign/catalog/opencsw_catalog.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <unordered_map>

#include "catsign/error.hpp"
#include "catsign/util/quote.hpp"
#include "catsign/openpgp/cleartext.hpp"

namespace catsign::catalog {

namespace {


constexpr const char* kFieldNames[] = {"catalogname", "version",  "pkgname",
                                       "file",        "md5",      "size",
                                       "dependencies", "category", "i-dependencies"};


[[noreturn]] void fail_line(std::size_t line, const std::string& what) {
  throw Error(Errc::malformed, "catalog line " + std::to_string(line) + ": " + what);
}

[[noreturn]] void fail_field(std::size_t line, std::size_t field, std::string_view value,
                             const std::string& what) {
  throw Error(Errc::malformed, "catalog line " + std::to_string(line) + ", field " +
                                   std::to_string(field + 1) + " (" + kFieldNames[field] +
                                   "): " + quote_for_message(value) + " " + what);
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// "none" -> empty; otherwise names separated by single '|', none of them empty or "none".
std::vector<std::string> parse_list(std::size_t line, std::size_t field, std::string_view value) {
  std::vector<std::string> out;
  if (value == "none") return out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t bar = value.find('|', start);
    const std::string_view item =
        value.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    if (item.empty()) fail_field(line, field, value, "has an empty name (want none or CSWa|CSWb)");
    if (item == "none") {
      fail_field(line, field, value, "mixes 'none' with package names (want none or CSWa|CSWb)");
    }
    out.emplace_back(item);
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return out;
}

// The catalog text inside a cleartext signature's framing, and how many lines of the file
// come before it (so line numbers in messages are the file's).
std::pair<std::string, std::size_t> unframe(std::string_view text) {
  openpgp::CleartextMessage msg = openpgp::parse_cleartext(text);
  // parse_cleartext has checked the framing: the text starts after the first empty line
  // (the armor headers end there).
  std::size_t before = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos, end - pos);
    ++before;
    pos = end + 1;
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
    if (before > 1 && l.empty()) break;
  }
  return {std::move(msg.text), before};
}

}  // namespace

std::string OpenCswCatalog::header(std::string_view key) const {
  for (const auto& [k, v] : headers)
    if (k == key) return v;
  return {};
}

OpenCswCatalog parse_opencsw_catalog(std::string_view input) {
  std::string unframed;
  std::size_t offset = 0;
  std::string_view text = input;
  if (input.substr(0, openpgp::kCleartextBegin.size()) == openpgp::kCleartextBegin) {
    auto [t, before] = unframe(input);
    unframed = std::move(t);
    offset = before;
    text = unframed;
  }

  OpenCswCatalog catalog;
  std::unordered_map<std::string, std::size_t> catalognames;
  std::unordered_map<std::string, std::size_t> pkgnames;
  std::size_t field_count = 0;  // of the first package line
  std::size_t first_package_line = 0;
  std::size_t pos = 0;
  std::size_t number = offset;

  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;

    if (line.empty()) fail_line(number, "is empty (a catalog has no blank lines)");
    if (line.back() == '\r') {
      fail_line(number, "ends in CR: catalogs use LF line endings, not CR LF");
    }
    for (char c : line) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x7f) {
        fail_line(number, "holds the byte " + quote_for_message(std::string_view(&c, 1)) +
                              ": catalog lines are printable ASCII");
      }
    }

    if (line.front() == '#') {
      // "# KEY value": the key is the first word, the value the rest.
      std::string_view rest = line.substr(1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      const std::size_t sp = rest.find(' ');
      std::string_view key = rest.substr(0, sp);
      std::string_view value = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      catalog.headers.emplace_back(std::string(key), std::string(value));
      continue;
    }

    std::vector<std::string_view> fields;
    std::size_t start = 0;
    for (;;) {
      const std::size_t sp = line.find(' ', start);
      fields.push_back(line.substr(start, sp == std::string_view::npos ? std::string_view::npos : sp - start));
      if (sp == std::string_view::npos || fields.size() > 9) break;
      start = sp + 1;
    }
    // An empty field (two spaces in a row) first: it would otherwise read as a wrong count.
    for (std::size_t i = 0; i < fields.size() && i < 9; ++i) {
      if (fields[i].empty()) fail_field(number, i, fields[i], "is empty (two spaces in a row, or a space at the end?)");
    }
    if (fields.size() < 8 || fields.size() > 9) {
      fail_line(number, (fields.size() > 9 ? std::string("more than 9") : std::to_string(fields.size())) +
                            " fields; a catalog line has 9 (or 8 in old catalogs), separated by single spaces");
    }
    if (field_count == 0) {
      field_count = fields.size();
      first_package_line = number;
    } else if (fields.size() != field_count) {
      fail_line(number, std::to_string(fields.size()) + " fields, but line " +
                            std::to_string(first_package_line) + " has " + std::to_string(field_count) +
                            " (every line of a catalog has the same form)");
    }

    CatalogEntry e;
    e.line = number;
    e.catalogname = fields[0];
    e.version = fields[1];
    e.pkgname = fields[2];

    const std::string_view file = fields[3];
    if (file.find('/') != std::string_view::npos) {
      fail_field(number, 3, file, "contains '/': a package file name is a plain name in the catalog's folder");
    }
    if (file.find("..") != std::string_view::npos || file == ".") {
      fail_field(number, 3, file, "contains \"..\" or is \".\": not a package file name");
    }
    e.file = file;

    const std::string_view md5 = fields[4];
    if (md5.size() != 32 || !std::all_of(md5.begin(), md5.end(), is_hex)) {
      fail_field(number, 4, md5, "is not 32 hex digits");
    }
    e.md5.resize(32);
    std::transform(md5.begin(), md5.end(), e.md5.begin(),
                   [](char c) { return (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c; });

    const std::string_view size = fields[5];
    if (!std::all_of(size.begin(), size.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      fail_field(number, 5, size, "is not a size in bytes (a decimal number)");
    }
    auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), e.size);
    if (ec != std::errc() || ptr != size.data() + size.size()) {
      fail_field(number, 5, size, "is too large for a size in bytes");
    }

    e.depends = parse_list(number, 6, fields[6]);
    e.category = fields[7];
    if (fields.size() == 9) {
      e.i_depends = parse_list(number, 8, fields[8]);
      e.nine_fields = true;
    }

    if (auto [it, fresh] = catalognames.emplace(e.catalogname, number); !fresh) {
      fail_field(number, 0, e.catalogname, "is already on line " + std::to_string(it->second));
    }
    if (auto [it, fresh] = pkgnames.emplace(e.pkgname, number); !fresh) {
      fail_field(number, 2, e.pkgname, "is already on line " + std::to_string(it->second));
    }
    catalog.entries.push_back(std::move(e));
  }
  return catalog;
}

}  // namespace catsign::catalog
