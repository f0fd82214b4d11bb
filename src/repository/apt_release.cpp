// SPDX-License-Identifier: Apache-2.0
#include "catsign/repository/apt_release.hpp"

#include <set>

#include "catsign/error.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::repository {

namespace {

constexpr std::size_t kMaxSizeDigits = 19;  // below 2^63: no overflow

[[noreturn]] void bad(std::size_t line, const std::string& why) {
  throw Error(Errc::malformed, "Release line " + std::to_string(line) + ": " + why);
}

bool blank(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  std::size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i == s.size()) break;
    std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    out.push_back(s.substr(start, i - start));
  }
  return out;
}

bool field_name_ok(std::string_view name) {
  // Debian Policy §5.1: US-ASCII without control characters, space or ':', not starting with
  // '#' or '-'.
  if (name.empty() || name.front() == '#' || name.front() == '-') return false;
  for (char c : name)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == ':') return false;
  return true;
}

ListedFile parse_entry(std::string_view entry, std::size_t line) {
  std::vector<std::string_view> t = tokens(entry);
  if (t.size() != 3)
    bad(line, "a SHA256 entry is \"<sha256> <size> <path>\", this one has " + std::to_string(t.size()) + " fields");
  ListedFile f;
  f.line = line;
  f.hash = "SHA-256";
  if (t[0].size() != 64) bad(line, "the SHA-256 " + quote_for_message(t[0], 70) + " is not 64 hex digits");
  for (char c : t[0])
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
      bad(line, "the SHA-256 " + quote_for_message(t[0], 70) + " is not 64 hex digits");
  f.digest = from_hex(t[0]);
  if (t[1].empty() || t[1].size() > kMaxSizeDigits)
    bad(line, "the size " + quote_for_message(t[1], 30) + " is not a number of bytes");
  for (char c : t[1]) {
    if (c < '0' || c > '9') bad(line, "the size " + quote_for_message(t[1], 30) + " is not a number of bytes");
    f.size = f.size * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (!listed_path_ok(t[2]))
    bad(line, "the path " + quote_for_message(t[2], 80) +
                  " is not a plain relative path (no leading '/', no '.', '..' or empty component)");
  f.path = std::string(t[2]);
  return f;
}

}  // namespace

std::vector<ListedFile> parse_apt_release(std::string_view text) {
  std::vector<ListedFile> files;
  std::set<std::string> fields;
  std::set<std::string> paths;
  bool in_paragraph = false, ended = false, in_sha256 = false, seen_sha256 = false;
  std::size_t sha256_line = 0;
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.find('\0') != std::string_view::npos) bad(line_no, "has a NUL byte");
    if (line.find('\r') != std::string_view::npos) bad(line_no, "has a CR byte: a Release ends lines with LF only");
    if (blank(line)) {
      if (in_paragraph) ended = true;
      in_sha256 = false;
      continue;
    }
    if (ended) bad(line_no, "a second paragraph: a Release is a single paragraph of fields");
    if (line.front() == ' ' || line.front() == '\t') {
      if (!in_paragraph) bad(line_no, "a continuation line before any field");
      if (in_sha256) {
        ListedFile f = parse_entry(line, line_no);
        if (!paths.insert(f.path).second) bad(line_no, "SHA256 lists " + f.path + " twice");
        files.push_back(std::move(f));
      }
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      bad(line_no, "neither \"Field: value\" nor a continuation line: " + quote_for_message(line, 60) +
                       " (is this a signed InRelease? the Release is the plain file)");
    std::string_view name = line.substr(0, colon);
    if (!field_name_ok(name)) bad(line_no, "field name " + quote_for_message(name, 60) + " is not allowed");
    std::string key = lower(name);
    if (!fields.insert(key).second) bad(line_no, "field " + std::string(name) + " appears twice");
    in_paragraph = true;
    in_sha256 = key == "sha256";
    if (in_sha256) {
      seen_sha256 = true;
      sha256_line = line_no;
      if (!trim(line.substr(colon + 1)).empty())
        bad(line_no, "SHA256 starts its list on the next line; the field's own line must be empty after the ':'");
    }
  }
  if (!seen_sha256)
    throw Error(Errc::malformed, "the Release has no SHA256 field, so there is nothing to check its files against "
                                 "(apt-ftparchive release writes one)");
  if (files.empty()) bad(sha256_line, "SHA256 lists no files");
  return files;
}

}  // namespace catsign::repository
