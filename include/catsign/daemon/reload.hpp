// SPDX-License-Identifier: Apache-2.0
// What a reload (SIGHUP) may change without a person, and what only a restart may: the token
// and the keys (a restart locks, so a person must come back), the socket paths, the audit log's
// path and the number of token sessions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catsign/config.hpp"

namespace catsign::daemon {

// The keys the daemon unlocks: the catalog keys first (several while a key is rotated), then
// the package keys and every repository's keys, each once.
std::vector<const KeyConfig*> keys_in_use(const Config& config);

// Why `next` can't replace `current` in a running daemon, in one line that says what to do,
// or nullopt when it can.
std::optional<std::string> restart_needed(const Config& current, const Config& next);

}  // namespace catsign::daemon
