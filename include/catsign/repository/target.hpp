// SPDX-License-Identifier: Apache-2.0
// What a request names in a [repositories.<name>] section (docs/DESIGN.md "Named repositories"):
// "debian:bookworm", "el:el9/x86_64". The repository's name, a ':', then one value per part of its
// path template, joined by '/' in the order the template first names the parts. Requests without a
// ':' are OpenCSW tuples (catalog/tuple.hpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catsign/config.hpp"

namespace catsign::repository {

struct Target {
  const RepositoryConfig* repository = nullptr;
  std::vector<std::string> values;  // one per part, in repository->parts order
  std::string name;                 // "el:el9/x86_64": the request's text and the notation's value
  std::string path;                 // the index, relative to the repository's root
  // The folder the files an index lists are relative to, relative to the root: the Release's
  // own folder (dists/<suite>), the folder holding repodata/, the database's folder.
  std::string listed_base;
};

// True when the text names a repository rather than an OpenCSW tuple.
bool names_repository(std::string_view target) noexcept;

// Parses "<name>:<value>[/<value>...]". Syntax errors (no name, characters outside
// [A-Za-z0-9._-], empty, "." or ".." values, the whole text over 200 characters, the wrong
// number of values for the repository) throw Error(malformed); an unknown repository or a
// value not configured for its part throws Error(refused) naming what is configured.
// Comparison is exact and case-sensitive; messages quote input safely (util/quote.hpp).
Target parse_target(std::string_view text, const Config& config);

// Every combination of the configured values, the first part varying slowest.
std::vector<Target> all_targets(const RepositoryConfig& repository);

}  // namespace catsign::repository
