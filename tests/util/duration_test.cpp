// SPDX-License-Identifier: Apache-2.0
#include "catsign/util/duration.hpp"

#include <gtest/gtest.h>

#include "catsign/error.hpp"

namespace catsign {
namespace {

using std::chrono::seconds;

TEST(Duration, ParsesUnitsAndCombinations) {
  EXPECT_EQ(parse_duration("7d"), seconds(7 * 86400));
  EXPECT_EQ(parse_duration("24h"), seconds(86400));
  EXPECT_EQ(parse_duration("90m"), seconds(5400));
  EXPECT_EQ(parse_duration("30s"), seconds(30));
  EXPECT_EQ(parse_duration("1d12h"), seconds(36 * 3600));
}

// systemd.time(7)'s forms, as a unit file would write them.
TEST(Duration, TakesSystemdForms) {
  EXPECT_EQ(parse_duration("1w"), seconds(7 * 86400));
  EXPECT_EQ(parse_duration("2weeks"), seconds(14 * 86400));
  EXPECT_EQ(parse_duration("1h 30m"), seconds(5400));
  EXPECT_EQ(parse_duration("90min"), seconds(5400));
  EXPECT_EQ(parse_duration("5min 20s"), seconds(320));
  EXPECT_EQ(parse_duration("7 days"), seconds(7 * 86400));
  EXPECT_EQ(parse_duration("1 day 2 hours"), seconds(26 * 3600));
  EXPECT_EQ(parse_duration("3hr"), seconds(3 * 3600));
  EXPECT_EQ(parse_duration("10sec"), seconds(10));
  EXPECT_EQ(parse_duration("1.5h"), seconds(5400));
  EXPECT_EQ(parse_duration(" 1d "), seconds(86400));
  // Case matters as in systemd: m is a minute, M a month (30.44 days); y is 365.25 days.
  EXPECT_EQ(parse_duration("1M"), seconds(2629800));
  EXPECT_EQ(parse_duration("1y"), seconds(31557600));
}

TEST(Duration, RefusesNonsense) {
  for (const char* bad : {"", " ", "7", "1h 30", "d", "7x", "-1d", "0s", "0.1s", "1.h5", "500ms", "10us", "1d,2h",
                          "99999999999999999999d", "101y", "1 fortnight", "h1", ".h"})
    EXPECT_THROW(parse_duration(bad), Error) << bad;
}

TEST(Duration, ErrorsSayWhatToWrite) {
  auto message = [](const char* text) {
    try {
      parse_duration(text);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::usage);
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_NE(message("7").find("no unit"), std::string::npos) << message("7");
  EXPECT_NE(message("7x").find("unknown unit 'x'"), std::string::npos) << message("7x");
  EXPECT_NE(message("500ms").find("whole seconds"), std::string::npos) << message("500ms");
  EXPECT_NE(message("7x").find("1h 30m"), std::string::npos) << message("7x");
}

TEST(Duration, FormatsForPeople) {
  EXPECT_EQ(format_duration(seconds(6 * 86400 + 23 * 3600 + 59)), "6d 23h");
  EXPECT_EQ(format_duration(seconds(3600 + 120)), "1h 2m");
  EXPECT_EQ(format_duration(seconds(42)), "42s");
}

}  // namespace
}  // namespace catsign
