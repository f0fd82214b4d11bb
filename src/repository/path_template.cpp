// SPDX-License-Identifier: Apache-2.0
#include "catsign/repository/path_template.hpp"

#include <algorithm>

#include "catsign/error.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::repository {

namespace {

constexpr std::size_t kMaxTemplate = 512;
constexpr std::size_t kMaxPartName = 32;
constexpr std::size_t kMaxValue = 64;
constexpr std::size_t kMaxName = 32;

bool name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

bool literal_char(char c) { return name_char(c) || c == '+' || c == '~' || c == '/'; }

bool part_name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || c == '_' || (!first && c >= '0' && c <= '9');
}

[[noreturn]] void bad(const std::string& why) { throw Error(Errc::malformed, why); }

bool valid_name(std::string_view s, std::size_t max) noexcept {
  if (s.empty() || s.size() > max || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), name_char);
}

}  // namespace

bool valid_part_value(std::string_view value) noexcept { return valid_name(value, kMaxValue); }
bool valid_repository_name(std::string_view name) noexcept { return valid_name(name, kMaxName); }

PathTemplate parse_path_template(std::string_view text) {
  if (text.empty()) bad("the path is empty");
  if (text.size() > kMaxTemplate) bad("the path is longer than " + std::to_string(kMaxTemplate) + " characters");
  if (text.front() == '/') bad("the path must be relative to root, not start with '/'");
  PathTemplate out;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) out.pieces.push_back({false, std::move(literal)});
    literal.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{') {
      std::size_t close = text.find('}', i + 1);
      if (close == std::string_view::npos) bad("'{' at character " + std::to_string(i + 1) + " is never closed");
      std::string name(text.substr(i + 1, close - i - 1));
      if (name.empty()) bad("'{}' names no part: write {suite}, {arch}, ...");
      if (name.size() > kMaxPartName) bad("part name '" + name.substr(0, kMaxPartName) + "...' is too long");
      for (std::size_t j = 0; j < name.size(); ++j)
        if (!part_name_char(name[j], j == 0))
          bad("part name " + quote_for_message(name, 40) + " must be lower case letters, digits and '_'");
      flush();
      out.pieces.push_back({true, name});
      if (std::find(out.parts.begin(), out.parts.end(), name) == out.parts.end()) out.parts.push_back(name);
      i = close;
    } else if (c == '}') {
      bad("'}' at character " + std::to_string(i + 1) + " closes nothing");
    } else if (!literal_char(c)) {
      bad("character " + quote_for_message(std::string_view(&c, 1), 8) +
          " is not allowed in the path (only A-Z a-z 0-9 . _ + ~ - / and {part})");
    } else {
      literal += c;
    }
  }
  flush();
  if (out.parts.empty()) bad("the path names no part: a request needs at least one, such as {suite}");
  // Components are checked on the template with each part as a stand-in name: a component
  // that is all placeholder is a value, which valid_part_value keeps from being "." or "..".
  std::string shape;
  for (const TemplatePiece& p : out.pieces) shape += p.is_part ? std::string("x") : p.text;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = shape.find('/', start);
    std::string_view component = std::string_view(shape).substr(start, slash == std::string::npos ? slash : slash - start);
    if (component.empty()) bad("the path has an empty component (a doubled or trailing '/')");
    if (component == "." || component == "..") bad("the path must not have a '.' or '..' component");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

std::string expand(const PathTemplate& path, const std::vector<std::string>& values) {
  std::string out;
  for (const TemplatePiece& p : path.pieces) {
    if (!p.is_part) {
      out += p.text;
      continue;
    }
    auto it = std::find(path.parts.begin(), path.parts.end(), p.text);
    std::size_t index = static_cast<std::size_t>(it - path.parts.begin());
    if (index >= values.size()) throw Error(Errc::internal, "no value for part " + p.text);
    out += values[index];
  }
  return out;
}

}  // namespace catsign::repository
