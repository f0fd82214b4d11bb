// SPDX-License-Identifier: Apache-2.0
// The audit log: one JSON object per line for every event (unlock, lock and why, sign,
// refusal), each carrying the SHA-256 of the previous line so that an edited, removed or
// reordered line breaks the chain. A record is on disk before the daemon releases what it
// describes (docs/DESIGN.md "The path of one signature"). A rotated log goes on in a new file
// whose first record names the previous file and carries the hash of its last line, so a
// series of files is one chain.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "catsign/util/file.hpp"

namespace catsign::daemon {

class AuditLog {
 public:
  // Opens (creating with mode 0640) and appends to `path`; reads the last line to continue the
  // chain. A log whose last line is not a valid record is refused with Error(io) saying so
  // (run `catsign audit verify`), never silently restarted.
  explicit AuditLog(const std::filesystem::path& path);
  // Puts what was written on disk, then stops the background flusher.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // A written record's place in the log: 1 for the first written by this object, and so on.
  using Ticket = std::uint64_t;

  // Adds "time" (RFC 3339 UTC, with milliseconds) and "prev" (hex SHA-256 of the previous
  // line's bytes, without its LF; 64 zeros for the first) and writes the line, without waiting
  // for the disk. Safe to call from several threads; records are ordered by the internal lock.
  // Throws Error(io) if the write fails; after a partial write the log is unusable until
  // restarted.
  Ticket write(nlohmann::json record);

  // Returns once the record `ticket` and every one before it are on disk. One fdatasync covers
  // every record written before it starts, so concurrent callers share it (group commit), and
  // a caller that wrote its record early can overlap the fsync with other work. Throws
  // Error(io) when that fdatasync failed: the caller must then not release what the record
  // describes, and the log is unusable until restarted.
  void sync(Ticket ticket);

  // write, then sync: the caller must then not release the signature if it throws.
  void append(nlohmann::json record);

  // write, and it reaches the disk with the next sync, or a background thread's 100 ms later
  // at most; for a record that completes one already on disk (a signature's result after the
  // record that fixed it), which nobody must wait for.
  void append_soon(nlohmann::json record);

  // For log rotation (rename, then SIGHUP): when `path` no longer names the open file, opens
  // a new file there and carries the chain over to it. Its first record is a "continue" event
  // naming the previous file ("previous_file", its name now) whose "prev" is the SHA-256 of
  // that file's last line, so the series verifies in order and no line can be cut at the
  // seam. Returns the previous file's path when it did; nullopt when `path` still names the
  // open file (nothing to do). On failure (Error(io): the new file cannot be made, or already
  // holds records) the log keeps writing the open file. Safe to call from any thread while
  // others append; not from a signal handler.
  std::optional<std::filesystem::path> reopen();

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  Ticket write_record(nlohmann::json& record);  // with mutex_ held
  void flush_loop();

  std::filesystem::path path_;
  // Changed only by reopen, under mutex_ and with no sync running, so sync uses it unlocked.
  UniqueFd fd_;
  std::mutex mutex_;
  std::condition_variable synced_cv_;  // a sync ended
  std::condition_variable flush_cv_;   // a round for the flusher, or stop
  std::string prev_hash_;
  Ticket written_ = 0;   // the last record written
  Ticket synced_ = 0;    // the last record known to be on disk
  Ticket flush_to_ = 0;  // the last record the flusher is to sync
  bool flush_armed_ = false;  // the flusher has a round to run
  bool syncing_ = false;
  bool stopping_ = false;
  std::string broken_;   // why the log can't be used any more; empty while it can
  std::thread flusher_;
};

struct AuditVerifyResult {
  bool ok = true;
  std::uint64_t lines = 0;          // records checked
  std::uint64_t first_bad_line = 0; // 1-based, when !ok
  std::string reason;               // what is wrong with that line
  // When the file's first record is a "continue" event: the file it names as the one before.
  std::string continues;
  std::string last_hash;            // hex SHA-256 of the last line; empty for an empty file
};

// Checks the chain from the first line: every line is a JSON object with "time", "event" and
// "prev", and "prev" is the SHA-256 of the line before. The first line's "prev" is 64 zeros,
// or, in a file that continues a rotated one, the first line is a "continue" event naming the
// previous file, and its "prev" is `continues_from` (the SHA-256 of the previous file's last
// line) when given; without it, it cannot be checked and `continues` says so. An empty file
// verifies with no records (it vouches for nothing and breaks nothing).
AuditVerifyResult verify_audit_log(const std::filesystem::path& path,
                                   const std::optional<std::string>& continues_from = std::nullopt);

}  // namespace catsign::daemon
