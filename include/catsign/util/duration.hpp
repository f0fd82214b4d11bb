// SPDX-License-Identifier: Apache-2.0
// Durations as operators write them in the config and on the command line: "7d", "24h",
// "90m", "30s", combinations such as "1d12h", and systemd.time(7)'s forms ("1w", "1h 30m",
// "90min", "2 days", "1.5h").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace catsign {

// Throws Error(usage) naming the text when it is not a positive duration of whole seconds; a
// number without a unit is refused.
std::chrono::seconds parse_duration(std::string_view text);

// "6d 23h", "5h 2m", "42s": for status lines.
std::string format_duration(std::chrono::seconds d);

// "2027-12-01 12:00:00 UTC": when a duration ends, for people (a key's expiry).
std::string format_utc(std::uint64_t seconds_since_epoch);

}  // namespace catsign
