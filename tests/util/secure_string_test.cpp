// SPDX-License-Identifier: Apache-2.0
#include "catsign/util/secure_string.hpp"

#include <gtest/gtest.h>

#include "catsign/error.hpp"

namespace catsign {
namespace {

TEST(SecureString, ClearWipesTheBuffer) {
  SecureString s;
  for (char c : std::string("123456")) s.push_back(c);
  const char* data = s.c_str();
  EXPECT_EQ(s.view(), "123456");
  s.clear();
  EXPECT_TRUE(s.empty());
  // The same buffer is kept (reserved up front), and its old bytes are gone.
  EXPECT_EQ(s.c_str(), data);
  EXPECT_EQ(std::string(data, 6), std::string(6, '\0'));
}

TEST(SecureString, MoveLeavesNoCopyBehind) {
  SecureString a;
  for (char c : std::string("secret")) a.push_back(c);
  SecureString b(std::move(a));
  EXPECT_EQ(b.view(), "secret");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
}

TEST(SecureString, RefusesOverlongSecrets) {
  SecureString s;
  EXPECT_THROW(
      for (std::size_t i = 0; i < SecureString::kCapacity; ++i) s.push_back('x'), Error);
}

}  // namespace
}  // namespace catsign
