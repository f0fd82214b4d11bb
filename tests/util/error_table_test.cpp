// SPDX-License-Identifier: Apache-2.0
// The one error table: every domain error has the reply code, HTTP status and exit code the
// README promises, and a client reading a reply code back gets the same exit code.
#include <gtest/gtest.h>

#include <set>

#include "catsign/error.hpp"

namespace catsign {
namespace {

struct Expected {
  Errc code;
  const char* reply;
  int http;
  int exit;
};

// The contract, written out independently of src/util/error.cpp: exit codes from the README's
// table, reply codes from the socket protocol, statuses from the HTTPS front.
constexpr Expected kContract[] = {
    {Errc::usage, "BAD_REQUEST", 400, 2},
    {Errc::missing_file, "BAD_REQUEST", 400, 2},
    {Errc::bad_request, "BAD_REQUEST", 400, 2},
    {Errc::locked, "LOCKED", 423, 3},
    {Errc::hash_mismatch, "HASH_MISMATCH", 409, 4},
    {Errc::unknown_target, "UNKNOWN_CATALOG", 404, 5},
    {Errc::refused, "DENIED", 403, 5},
    {Errc::pin_policy, "DENIED", 403, 5},
    {Errc::packages_unsigned, "PACKAGES_UNSIGNED", 422, 5},
    {Errc::index_mismatch, "INDEX_MISMATCH", 422, 5},
    {Errc::wrong_pin, "PIN_INCORRECT", 403, 1},
    {Errc::busy, "BUSY", 503, 1},
    {Errc::token_gone, "TOKEN_ERROR", 503, 1},
    {Errc::token, "TOKEN_ERROR", 503, 1},
    {Errc::unreachable, "UNREACHABLE", 503, 6},
    {Errc::malformed, "MALFORMED", 400, 1},
    {Errc::unsupported, "UNSUPPORTED", 400, 1},
    {Errc::bad_signature, "BAD_SIGNATURE", 400, 1},
    {Errc::io, "INTERNAL", 500, 1},
    {Errc::internal, "INTERNAL", 500, 1},
};

TEST(ErrorTable, EveryDomainErrorHasItsReplyCodeStatusAndExitCode) {
  ASSERT_EQ(error_table().size(), std::size(kContract)) << "a new Errc needs a row in the contract above";
  for (const Expected& e : kContract) {
    const ErrcInfo& row = error_info(e.code);
    SCOPED_TRACE(row.name);
    EXPECT_EQ(row.code, e.code);
    EXPECT_STREQ(reply_code_name(e.code), e.reply);
    EXPECT_EQ(http_status_for(e.code), e.http);
    EXPECT_EQ(exit_code_for(e.code), e.exit);
  }
}

TEST(ErrorTable, AReplyCodeReadBackGivesTheSameExitCode) {
  for (const ErrcInfo& row : error_table()) {
    SCOPED_TRACE(row.name);
    std::optional<Errc> back = errc_from_reply(row.reply);
    ASSERT_TRUE(back);
    EXPECT_EQ(exit_code_for(*back), row.exit_code) << "rows that share reply code " << row.reply
                                                    << " must share their exit code";
    EXPECT_EQ(http_status_for(*back), row.http_status);
  }
  EXPECT_FALSE(errc_from_reply("NO_SUCH_CODE"));
  EXPECT_FALSE(errc_from_reply(""));
  EXPECT_FALSE(errc_from_reply("locked")) << "reply codes are upper case";
}

TEST(ErrorTable, NamesAreUniqueAndRepliesAreWireSafe) {
  std::set<std::string> names;
  for (const ErrcInfo& row : error_table()) {
    EXPECT_TRUE(names.insert(row.name).second) << row.name;
    for (const char* c = row.reply; *c != '\0'; ++c)
      EXPECT_TRUE((*c >= 'A' && *c <= 'Z') || *c == '_') << row.reply;
    EXPECT_TRUE(row.exit_code >= 1 && row.exit_code <= 6) << row.name;
    EXPECT_TRUE(row.http_status >= 400 && row.http_status < 600) << row.name;
  }
}

}  // namespace
}  // namespace catsign
