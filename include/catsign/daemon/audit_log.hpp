// The audit log: one JSON object per line for every event (unlock, lock and why, sign,
// refusal), each carrying the SHA-256 of the previous line so that an edited, removed or
// reordered line breaks the chain. Each record is appended and fsynced before the daemon
// replies (docs/DESIGN.md "The path of one signature").
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "catsign/util/file.hpp"

namespace catsign::daemon {

class AuditLog {
 public:
  // Opens (creating with mode 0640) and appends to `path`; reads the last line to continue the
  // chain. A log whose last line is not a valid record is refused with Error(io) saying so
  // (run `catsign audit verify`), never silently restarted.
  explicit AuditLog(const std::filesystem::path& path);

  // Adds "time" (RFC 3339 UTC, with milliseconds) and "prev" (hex SHA-256 of the previous
  // line's bytes, without its LF; 64 zeros for the first), writes the line, fsyncs. Safe to
  // call from several threads; records are ordered by the internal lock. Throws Error(io) if
  // the write or fsync fails: the caller must then not release the signature.
  void append(nlohmann::json record);

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  UniqueFd fd_;
  std::mutex mutex_;
  std::string prev_hash_;
};

struct AuditVerifyResult {
  bool ok = true;
  std::uint64_t lines = 0;          // records checked
  std::uint64_t first_bad_line = 0; // 1-based, when !ok
  std::string reason;               // what is wrong with that line
};

// Checks the chain from the first line: every line is a JSON object with "time", "event" and
// "prev", and "prev" is the SHA-256 of the line before.
AuditVerifyResult verify_audit_log(const std::filesystem::path& path);

}  // namespace catsign::daemon
