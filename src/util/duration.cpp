#include "catsign/util/duration.hpp"

#include <cstdint>

#include "catsign/error.hpp"

namespace catsign {

std::chrono::seconds parse_duration(std::string_view text) {
  auto fail = [&]() -> Error {
    return Error(Errc::usage, "'" + std::string(text) +
                                  "' is not a duration: write a number with a unit, such as 7d, 24h, 90m or 30s");
  };
  if (text.empty()) throw fail();
  std::uint64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint64_t n = 0;
    std::size_t digits = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
      n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
      if (n > 100ull * 365 * 86400) throw fail();
    }
    if (digits == 0 || i == text.size()) throw fail();
    std::uint64_t unit = 0;
    switch (text[i++]) {
      case 'd': unit = 86400; break;
      case 'h': unit = 3600; break;
      case 'm': unit = 60; break;
      case 's': unit = 1; break;
      default: throw fail();
    }
    total += n * unit;
    if (total > 100ull * 365 * 86400) throw fail();
  }
  if (total == 0) throw fail();
  return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds d) {
  long long s = d.count();
  if (s < 0) s = 0;
  long long days = s / 86400, hours = s % 86400 / 3600, minutes = s % 3600 / 60, seconds = s % 60;
  if (days > 0) return std::to_string(days) + "d " + std::to_string(hours) + "h";
  if (hours > 0) return std::to_string(hours) + "h " + std::to_string(minutes) + "m";
  if (minutes > 0) return std::to_string(minutes) + "m " + std::to_string(seconds) + "s";
  return std::to_string(seconds) + "s";
}

}  // namespace catsign
