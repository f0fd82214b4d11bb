// SPDX-License-Identifier: Apache-2.0
// Durations in catsign's short form ("7d", "1d12h") and in systemd's (systemd.time(7): "1w",
// "1h 30m", "90min", "2 days", "1.5h"), so that a value copied from a unit file means the same
// here. Unlike systemd, a bare number is refused: "7" could mean 7 seconds or 7 days, and an
// unlock window of 7 seconds is a surprise nobody wants.
#include "catsign/util/duration.hpp"

#include <cstdint>
#include <ctime>
#include <string>

#include "catsign/error.hpp"

namespace catsign {

namespace {

constexpr std::uint64_t kMax = 100ull * 365 * 86400;  // a hundred years: anything longer is a typo

struct Unit {
  const char* name;
  std::uint64_t seconds;
};

// systemd.time(7)'s units of a second and longer. Case matters: "m" is a minute, "M" a month.
// A month is 30.44 days and a year 365.25 days, as in systemd.
constexpr Unit kUnits[] = {
    {"seconds", 1},     {"second", 1},     {"sec", 1},        {"s", 1},
    {"minutes", 60},    {"minute", 60},    {"min", 60},       {"m", 60},
    {"hours", 3600},    {"hour", 3600},    {"hr", 3600},      {"h", 3600},
    {"days", 86400},    {"day", 86400},    {"d", 86400},
    {"weeks", 604800},  {"week", 604800},  {"w", 604800},
    {"months", 2629800}, {"month", 2629800}, {"M", 2629800},
    {"years", 31557600}, {"year", 31557600}, {"y", 31557600},
};

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

std::chrono::seconds parse_duration(std::string_view text) {
  auto fail = [&](const std::string& why = "") -> Error {
    // Built from a std::string on the left: GCC 12 at -O3 misreads `"'" + std::string(...)`
    // (an insert at the front of a temporary) as an overlapping memcpy (-Wrestrict).
    std::string message(1, '\'');
    message.append(text).append("' is not a duration");
    if (!why.empty()) message.append(" (").append(why).append(")");
    message.append(": write a number with a unit, such as 7d, 1w, 24h, 1h 30m, 90min or 30s");
    return Error(Errc::usage, message);
  };
  std::uint64_t total = 0;
  std::size_t i = 0;
  bool any = false;
  auto skip_space = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  skip_space();
  while (i < text.size()) {
    // A number: digits, optionally a fraction ("1.5h").
    std::uint64_t whole = 0;
    std::size_t digits = 0;
    for (; i < text.size() && is_digit(text[i]); ++i, ++digits) {
      whole = whole * 10 + static_cast<std::uint64_t>(text[i] - '0');
      if (whole > kMax) throw fail("too long");
    }
    std::uint64_t frac = 0, frac_scale = 1;
    if (i < text.size() && text[i] == '.') {
      ++i;
      for (; i < text.size() && is_digit(text[i]); ++i, ++digits) {
        if (frac_scale < 1000000000ull) {  // nine places are more than a second can use
          frac = frac * 10 + static_cast<std::uint64_t>(text[i] - '0');
          frac_scale *= 10;
        }
      }
    }
    if (digits == 0) throw fail();
    skip_space();
    std::size_t start = i;
    while (i < text.size() && is_letter(text[i])) ++i;
    std::string_view unit = text.substr(start, i - start);
    if (unit.empty()) {
      if (i == text.size()) throw fail("no unit: 7 could mean seconds or days");
      throw fail();
    }
    std::uint64_t per = 0;
    for (const Unit& u : kUnits)
      if (unit == u.name) per = u.seconds;
    if (per == 0) {
      if (unit == "ms" || unit == "msec" || unit == "us" || unit == "usec")
        throw fail("catsign counts whole seconds");
      throw fail("unknown unit '" + std::string(unit) + "'");
    }
    total += whole * per + frac * per / frac_scale;
    if (total > kMax) throw fail("longer than a hundred years");
    any = true;
    skip_space();
  }
  if (!any) throw fail();
  if (total == 0) throw fail("it must be at least one second");
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

std::string format_utc(std::uint64_t seconds_since_epoch) {
  std::time_t t = static_cast<std::time_t>(seconds_since_epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace catsign
