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

TEST(Duration, RefusesNonsense) {
  for (const char* bad : {"", "7", "d", "7x", "-1d", "0s", "1.5h", "7 d", "99999999999999999999d", "1d "})
    EXPECT_THROW(parse_duration(bad), Error) << bad;
}

TEST(Duration, FormatsForPeople) {
  EXPECT_EQ(format_duration(seconds(6 * 86400 + 23 * 3600 + 59)), "6d 23h");
  EXPECT_EQ(format_duration(seconds(3600 + 120)), "1h 2m");
  EXPECT_EQ(format_duration(seconds(42)), "42s");
}

}  // namespace
}  // namespace catsign
