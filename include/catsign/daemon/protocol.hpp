// SPDX-License-Identifier: Apache-2.0
// The line protocol of the sign and admin sockets (docs/DESIGN.md "Contract"): ASCII requests ended by LF,
// at most 1 KiB; replies "OK <n>\n<n bytes>" or "ERR <CODE> <one-line message>\n".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "catsign/error.hpp"
#include "catsign/signing/pipeline.hpp"
#include "catsign/util/bytes.hpp"

namespace catsign::daemon {

inline constexpr std::size_t kMaxRequestLine = 1024;

struct Request {
  enum class Kind { sign, signpkg, status, ping, unlock, lock };
  Kind kind = Kind::ping;
  std::string target;            // SIGN: the tuple; SIGNPKG: the package path
  Bytes sha256;                  // SIGN, SIGNPKG: 32 bytes
  signing::Form form = signing::Form::detached_armored;  // mode= and armor=
  std::string lock_reason;       // LOCK [reason]
};

// Parses one request line (without its LF). Strict: known verbs in upper case, single spaces,
// sha256= with 64 lowercase hex digits, each option at most once, printable ASCII only.
// Anything else throws Error(bad_request) saying what is wrong. UNLOCK's PIN line is
// not part of this: the server reads it separately and never parses or logs it.
Request parse_request(std::string_view line);
std::string format_request(const Request& request);  // the client side

std::string ok_reply(std::string_view payload);
// "ERR <reply code of the Errc> <message on one line>\n" (error.hpp's table).
std::string err_reply(Errc code, std::string_view message);

}  // namespace catsign::daemon
