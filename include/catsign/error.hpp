// SPDX-License-Identifier: Apache-2.0
// One error type for the whole core library. Every failure is a domain error (Errc) with a
// one-line message for the operator; one table (src/util/error.cpp) gives each Errc its reply
// code on the daemon's sockets, its HTTP status and the exit code of every client command, so
// the same failure means the same thing on every path (docs/DESIGN.md "Errors").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace catsign {

enum class Errc {
  usage,              // bad command line or configuration
  missing_file,       // a file the command was told to read does not exist
  bad_request,        // a daemon request that does not parse
  locked,             // the daemon is locked: a person must run catsign unlock
  hash_mismatch,      // the file is not the one the client named; nothing was signed
  unknown_target,     // not a configured catalog, repository index or package
  refused,            // not allowed: the peer, a policy, an unlock while unlocked
  pin_policy,         // the PIN is locked or on its last try: catsign will not spend it
  packages_unsigned,  // the package gate refused the catalog
  index_mismatch,     // a repository index lists files that are not what is on disk
  wrong_pin,          // the token rejected the PIN
  busy,               // every token session stayed busy, or a signature is stuck on the token
  token_gone,         // the token was removed, reset or logged out
  token,              // any other PKCS#11 token or module failure
  unreachable,        // the daemon is not reachable
  malformed,          // input that does not parse
  unsupported,        // valid OpenPGP that catsign does not handle (DSA, v3, ...)
  bad_signature,      // a signature that does not verify
  io,                 // a file system failure
  internal,           // the request could not be completed (a bug, or the audit log failed)
};

// One row of the error table.
struct ErrcInfo {
  Errc code;
  const char* name;   // "hash_mismatch": audit records and JSON
  const char* reply;  // "HASH_MISMATCH": the socket protocol's ERR code
  int http_status;    // what the HTTPS front answers
  int exit_code;      // what every client command exits with
};

// Every row, in the order of the enum; tests walk it.
std::span<const ErrcInfo> error_table() noexcept;
const ErrcInfo& error_info(Errc code) noexcept;

inline const char* errc_name(Errc code) noexcept { return error_info(code).name; }
inline const char* reply_code_name(Errc code) noexcept { return error_info(code).reply; }
inline int exit_code_for(Errc code) noexcept { return error_info(code).exit_code; }
inline int http_status_for(Errc code) noexcept { return error_info(code).http_status; }

// The Errc a client reads back from an ERR reply code: the first row with that code (rows
// that share a reply code share their exit code, which a test checks). nullopt when unknown.
std::optional<Errc> errc_from_reply(std::string_view reply_code);

class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

}  // namespace catsign
