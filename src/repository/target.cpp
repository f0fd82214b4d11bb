// SPDX-License-Identifier: Apache-2.0
#include "catsign/repository/target.hpp"

#include <algorithm>

#include "catsign/error.hpp"
#include "catsign/repository/path_template.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::repository {

namespace {

constexpr std::size_t kMaxTarget = 200;
constexpr std::size_t kMaxQuoted = 80;

std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t at = text.find(sep, start);
    out.emplace_back(text.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::string usage_of(const RepositoryConfig& repo) {
  std::string out = repo.name + ":";
  for (std::size_t i = 0; i < repo.parts.size(); ++i) out += (i ? "/<" : "<") + repo.parts[i] + ">";
  return out;
}

// Fills in the path and the listed files' folder; the values are already checked.
Target make(const RepositoryConfig& repo, std::vector<std::string> values) {
  Target t;
  t.repository = &repo;
  t.name = repo.name + ":";
  for (std::size_t i = 0; i < values.size(); ++i) t.name += (i ? "/" : "") + values[i];
  t.path = expand(parse_path_template(repo.path), values);
  t.values = std::move(values);
  // Belt and braces: the config's rules already make this impossible.
  for (const std::string& c : split(t.path, '/'))
    if (c.empty() || c == "." || c == "..")
      throw Error(Errc::internal, "repository path " + quote_for_message(t.path, kMaxQuoted) + " is not plain");
  std::string dir = t.path.substr(0, t.path.rfind('/') == std::string::npos ? 0 : t.path.rfind('/'));
  if (repo.format == RepositoryFormat::rpm) {
    // <base>/repodata/repomd.xml: hrefs are relative to <base>.
    std::size_t slash = dir.rfind('/');
    dir = slash == std::string::npos ? std::string() : dir.substr(0, slash);
  }
  t.listed_base = dir;
  return t;
}

}  // namespace

bool names_repository(std::string_view target) noexcept { return target.find(':') != std::string_view::npos; }

Target parse_target(std::string_view text, const Config& config) {
  auto malformed = [&](const std::string& why) {
    return Error(Errc::malformed, "malformed repository index " + quote_for_message(text, kMaxQuoted) + ": " + why +
                                      " (want <repository>:<value>[/<value>...], e.g. debian:bookworm)");
  };
  if (text.empty()) throw malformed("empty");
  if (text.size() > kMaxTarget)
    throw malformed(std::to_string(text.size()) + " characters, at most " + std::to_string(kMaxTarget));
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) throw malformed("no ':' after the repository's name");
  std::string_view name = text.substr(0, colon), rest = text.substr(colon + 1);
  if (!valid_repository_name(name)) throw malformed("the repository's name must be A-Z a-z 0-9 . _ - (at most 32)");
  if (rest.empty()) throw malformed("no value after the ':'");
  std::vector<std::string> values = split(rest, '/');
  for (const std::string& v : values) {
    if (v.empty()) throw malformed("empty value (leading, trailing or doubled '/')");
    if (!valid_part_value(v))
      throw malformed("value " + quote_for_message(v, kMaxQuoted) + " must be A-Z a-z 0-9 . _ - (at most 64), not . or ..");
  }
  auto it = config.repositories.find(std::string(name));
  if (it == config.repositories.end()) {
    std::vector<std::string> names;
    for (const auto& [n, r] : config.repositories) names.push_back(n);
    throw Error(Errc::refused, "unknown repository '" + std::string(name) + "' in " + std::string(text) + "; " +
                                   (names.empty() ? std::string("no [repositories.NAME] sections are configured")
                                                  : "configured repositories: " + joined(names)));
  }
  const RepositoryConfig& repo = it->second;
  if (values.size() != repo.parts.size())
    throw malformed(std::to_string(values.size()) + (values.size() == 1 ? " value" : " values") + ", " + repo.name +
                    " wants " + std::to_string(repo.parts.size()) + ": " + usage_of(repo));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::vector<std::string>& allowed = repo.values.at(repo.parts[i]);
    if (std::find(allowed.begin(), allowed.end(), values[i]) == allowed.end())
      throw Error(Errc::refused, "unknown " + repo.parts[i] + " '" + values[i] + "' in " + std::string(text) +
                                     "; configured values of " + repo.parts[i] + " in [repositories." + repo.name +
                                     "]: " + joined(allowed));
  }
  return make(repo, std::move(values));
}

std::vector<Target> all_targets(const RepositoryConfig& repository) {
  std::vector<std::vector<std::string>> combos{{}};
  for (const std::string& part : repository.parts) {
    std::vector<std::vector<std::string>> next;
    for (const auto& prefix : combos)
      for (const std::string& v : repository.values.at(part)) {
        next.push_back(prefix);
        next.back().push_back(v);
      }
    combos = std::move(next);
  }
  std::vector<Target> out;
  for (auto& values : combos) out.push_back(make(repository, std::move(values)));
  return out;
}

}  // namespace catsign::repository
