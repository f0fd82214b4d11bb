// The line protocol of the sign and admin sockets (DESIGN.md §4): ASCII requests ended by LF,
// at most 1 KiB; replies "OK <n>\n<n bytes>" or "ERR <CODE> <one-line message>\n".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "catsign/error.hpp"
#include "catsign/util/bytes.hpp"

namespace catsign::daemon {

inline constexpr std::size_t kMaxRequestLine = 1024;

enum class ReplyCode {
  locked,
  hash_mismatch,
  unknown_catalog,
  bad_request,
  denied,
  packages_unsigned,
  token_error,
  busy,
  internal,  // the daemon could not complete the request (e.g. the audit log failed)
};

const char* reply_code_name(ReplyCode code) noexcept;  // "HASH_MISMATCH"
std::optional<ReplyCode> reply_code_from_name(std::string_view name);
// The exit code `catsign request` and friends return for an ERR reply (DESIGN.md §4).
int exit_code_for(ReplyCode code) noexcept;

// A refusal that becomes an ERR reply. The message is one line, for the operator.
class RequestError : public Error {
 public:
  RequestError(ReplyCode code, const std::string& message);
  ReplyCode reply_code() const noexcept { return reply_code_; }

 private:
  ReplyCode reply_code_;
};

enum class SignatureForm { detached, clearsign };

struct Request {
  enum class Kind { sign, signpkg, status, ping, unlock, lock };
  Kind kind = Kind::ping;
  std::string target;            // SIGN: the tuple; SIGNPKG: the package path
  Bytes sha256;                  // SIGN, SIGNPKG: 32 bytes
  SignatureForm form = SignatureForm::detached;
  bool armor = true;
  std::string lock_reason;       // LOCK [reason]
};

// Parses one request line (without its LF). Strict: known verbs in upper case, single spaces,
// sha256= with 64 lowercase hex digits, each option at most once, printable ASCII only.
// Anything else throws RequestError(bad_request) saying what is wrong. UNLOCK's PIN line is
// not part of this: the server reads it separately and never parses or logs it.
Request parse_request(std::string_view line);
std::string format_request(const Request& request);  // the client side

std::string ok_reply(std::string_view payload);
std::string err_reply(ReplyCode code, std::string_view message);

}  // namespace catsign::daemon
