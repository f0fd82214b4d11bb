// SPDX-License-Identifier: Apache-2.0
#include "catsign/error.hpp"

#include <array>

namespace catsign {

namespace {

// The one table (docs/DESIGN.md "Errors"). Exit codes: 2 usage or configuration, 3 locked,
// 4 hash mismatch, 5 refused, 6 unreachable, 1 anything else. A row's reply code is what the
// daemon writes after "ERR"; clients map it back through the same table.
constexpr std::array<ErrcInfo, 20> kTable = {{
    {Errc::usage, "usage", "BAD_REQUEST", 400, 2},
    {Errc::missing_file, "missing_file", "BAD_REQUEST", 400, 2},
    {Errc::bad_request, "bad_request", "BAD_REQUEST", 400, 2},
    {Errc::locked, "locked", "LOCKED", 423, 3},
    {Errc::hash_mismatch, "hash_mismatch", "HASH_MISMATCH", 409, 4},
    {Errc::unknown_target, "unknown_target", "UNKNOWN_CATALOG", 404, 5},
    {Errc::refused, "refused", "DENIED", 403, 5},
    {Errc::pin_policy, "pin_policy", "DENIED", 403, 5},
    {Errc::packages_unsigned, "packages_unsigned", "PACKAGES_UNSIGNED", 422, 5},
    {Errc::index_mismatch, "index_mismatch", "INDEX_MISMATCH", 422, 5},
    {Errc::wrong_pin, "wrong_pin", "PIN_INCORRECT", 403, 1},
    {Errc::busy, "busy", "BUSY", 503, 1},
    {Errc::token_gone, "token_gone", "TOKEN_ERROR", 503, 1},
    {Errc::token, "token", "TOKEN_ERROR", 503, 1},
    {Errc::unreachable, "unreachable", "UNREACHABLE", 503, 6},
    {Errc::malformed, "malformed", "MALFORMED", 400, 1},
    {Errc::unsupported, "unsupported", "UNSUPPORTED", 400, 1},
    {Errc::bad_signature, "bad_signature", "BAD_SIGNATURE", 400, 1},
    {Errc::io, "io", "INTERNAL", 500, 1},
    {Errc::internal, "internal", "INTERNAL", 500, 1},
}};

constexpr bool table_follows_enum() {
  for (std::size_t i = 0; i < kTable.size(); ++i)
    if (static_cast<std::size_t>(kTable[i].code) != i) return false;
  return true;
}
static_assert(table_follows_enum(), "kTable rows must follow the order of enum class Errc");
static_assert(static_cast<std::size_t>(Errc::internal) + 1 == kTable.size(), "every Errc needs a row");

}  // namespace

std::span<const ErrcInfo> error_table() noexcept { return kTable; }

const ErrcInfo& error_info(Errc code) noexcept { return kTable[static_cast<std::size_t>(code)]; }

std::optional<Errc> errc_from_reply(std::string_view reply_code) {
  for (const ErrcInfo& row : kTable)
    if (reply_code == row.reply) return row.code;
  return std::nullopt;
}

}  // namespace catsign
