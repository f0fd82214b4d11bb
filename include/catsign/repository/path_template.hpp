// SPDX-License-Identifier: Apache-2.0
// The path template of a [repositories.<name>] section (docs/DESIGN.md "Named repositories"), such
// as "{repo}/os/{arch}/{repo}.db": literal text and {part} placeholders, relative to the
// repository's root. The rules make every expansion a plain relative path: the template is
// relative, has no empty, "." or ".." component, and every value put in a placeholder is a single
// harmless name, so no request can reach outside the template's shape. The file is still opened
// with RESOLVE_BENEATH (catalog/beneath.hpp), which is what actually holds.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace catsign::repository {

struct TemplatePiece {
  bool is_part = false;  // {name}: text is the part's name; else literal text
  std::string text;
};

struct PathTemplate {
  std::vector<TemplatePiece> pieces;
  std::vector<std::string> parts;  // each part once, in the order the template first names it
};

// Error(malformed) with a one-line reason when the template breaks a rule: empty, absolute,
// an empty, "." or ".." component, a character outside [A-Za-z0-9._+~-] in literal text, an
// unclosed or empty {}, a part name outside [a-z_][a-z0-9_]* (at most 32), no part at all.
PathTemplate parse_path_template(std::string_view text);

// A value a part may take: 1 to 64 characters of [A-Za-z0-9._-], and not "." or "..".
bool valid_part_value(std::string_view value) noexcept;
// A repository's name: the same characters, at most 32.
bool valid_repository_name(std::string_view name) noexcept;

// The template with each part replaced by values[i] for parts[i]; values must be valid.
std::string expand(const PathTemplate& path, const std::vector<std::string>& values);

}  // namespace catsign::repository
