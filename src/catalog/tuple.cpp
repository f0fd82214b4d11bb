// SPDX-License-Identifier: Apache-2.0
#include "catsign/catalog/tuple.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "catsign/error.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::catalog {

namespace {

constexpr std::size_t kMaxTuple = 64;
// How much of a rejected input a message quotes: enough to recognise it, never 70 KB.


bool allowed_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

void check_known(std::string_view kind, std::string_view plural, const std::string& value,
                 const std::vector<std::string>& configured, std::string_view text) {
  if (std::find(configured.begin(), configured.end(), value) != configured.end()) return;
  std::string msg = "unknown " + std::string(kind) + " '" + value + "' in catalog " +
                    std::string(text) + "; ";
  if (configured.empty()) {
    msg += "no " + std::string(plural) + " are configured ([catalogs] " + std::string(plural) +
           " is empty)";
  } else {
    msg += "configured " + std::string(plural) + ": " + joined(configured);
  }
  throw Error(Errc::refused, msg);
}

}  // namespace

Tuple parse_tuple(std::string_view text, const CatalogsConfig& config) {
  auto malformed = [&](const std::string& why) {
    return Error(Errc::malformed, "malformed catalog " + quote_for_message(text) + ": " + why +
                                      " (want release/arch/osrel, e.g. unstable/i386/5.10)");
  };
  if (text.empty()) throw malformed("empty");
  if (text.size() > kMaxTuple) {
    throw malformed(std::to_string(text.size()) + " characters, at most " +
                    std::to_string(kMaxTuple));
  }
  for (char c : text) {
    if (c != '/' && !allowed_char(c)) {
      throw malformed("character " + quote_for_message(std::string_view(&c, 1)) +
                      " is not allowed (only A-Z a-z 0-9 . _ -)");
    }
  }
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (const auto& p : parts) {
    if (p.empty()) throw malformed("empty part (leading, trailing or doubled '/')");
    if (p == "." || p == "..") throw malformed("'" + p + "' is not allowed as a part");
  }
  if (parts.size() != 3) {
    throw malformed(std::to_string(parts.size()) + (parts.size() == 1 ? " part" : " parts") +
                    ", want exactly 3");
  }
  Tuple t{parts[0], parts[1], parts[2]};
  // Syntax was checked first, so a configured value that is itself odd can never be reached.
  check_known("release", "releases", t.release, config.releases, text);
  check_known("arch", "arches", t.arch, config.arches, text);
  check_known("osrel", "osrels", t.osrel, config.osrels, text);
  return t;
}

}  // namespace catsign::catalog
