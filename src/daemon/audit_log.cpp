// SPDX-License-Identifier: Apache-2.0
// The audit log: a hash-chained JSON-lines file. See audit_log.hpp for the contract.
//
// How a damaged log is reported (verify_audit_log): the first line whose own check fails is
// named. A line is checked on its own (complete, at most kMaxLine bytes, a JSON object with
// string "time", "event" and "prev") and against the line before it ("prev" equals the SHA-256
// of that line's bytes). So:
//   - an edit that leaves line K unparsable, or that changes K's own "prev", is named at K;
//   - an edit inside line K that still parses is invisible in K itself, and is named at K+1,
//     whose "prev" no longer matches (the reason says line K or an earlier one was changed);
//   - a removed line K is named at the line that now sits at K; two swapped lines at the first
//     of them; a removed first line at line 1 (its "prev" is not 64 zeros);
//   - an edit to the very last line cannot be seen from the file alone: nothing follows it.
#include "catsign/daemon/audit_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <string_view>

#include <botan/hash.h>

#include "catsign/error.hpp"
#include "catsign/util/bytes.hpp"
#include "catsign/util/digest.hpp"

namespace catsign::daemon {

namespace {

// A record line, without its LF, is at most this long; the writer refuses longer records and
// the verifier calls longer lines broken, so that neither ever buffers without bound.
constexpr std::size_t kMaxLine = 64 * 1024;
const std::string kZeroHash(64, '0');
// The first record of a file that continues a rotated one.
constexpr const char* kContinueEvent = "continue";
// How long a record nobody waits for may wait for another caller's fsync to cover it.
constexpr std::chrono::milliseconds kFlushDelay{100};

[[noreturn]] void throw_io(const std::string& what, const std::filesystem::path& path, int err) {
  throw Error(Errc::io, what + " audit log " + path.string() + ": " + std::strerror(err));
}

std::string now_rfc3339_ms() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  long frac = static_cast<long>(ms % 1000);
  if (frac < 0) {  // before 1970: keep the fraction positive
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03ldZ", frac);
  return buf;
}

// What verification needs of one record.
struct RecordFields {
  std::string prev;
  std::string event;
  std::string previous_file;  // of a "continue" record
};

// Checks one line (without its LF) on its own. On success returns an empty string and fills
// `fields`; otherwise returns the reason.
std::string check_record(std::string_view line, RecordFields& fields) {
  if (line.size() > kMaxLine) return "line too long (more than " + std::to_string(kMaxLine) + " bytes)";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    return "not JSON (syntax error at byte " + std::to_string(e.byte) + ")";
  }
  if (!j.is_object()) return "not a JSON object";
  for (const char* field : {"time", "event", "prev"}) {
    auto it = j.find(field);
    if (it == j.end()) return std::string("missing field \"") + field + "\"";
    if (!it->is_string()) return std::string("field \"") + field + "\" is not a string";
  }
  fields.prev = j["prev"].get<std::string>();
  fields.event = j["event"].get<std::string>();
  fields.previous_file.clear();
  if (fields.event == kContinueEvent) {
    auto it = j.find("previous_file");
    if (it == j.end() || !it->is_string()) return "a \"continue\" record without a \"previous_file\" string";
    fields.previous_file = it->get<std::string>();
  }
  return {};
}

// The last line of a log that ends in LF, found by reading backwards from the end in chunks,
// never more than kMaxLine + 1 bytes. Returns the line without its LF.
std::string read_last_line(int fd, std::uint64_t size, const std::filesystem::path& path) {
  // size > 0 and the byte at size-1 is LF (checked by the caller).
  std::uint64_t end = size - 1;  // the line is [start, end)
  std::uint64_t pos = end;
  std::string tail;  // bytes [pos, end), read backwards in chunks
  std::array<char, 8192> buf;
  while (pos > 0) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), pos));
    std::uint64_t at = pos - want;
    std::size_t got = 0;
    while (got < want) {
      ssize_t n = ::pread(fd, buf.data() + got, want - got, static_cast<off_t>(at + got));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_io("cannot read", path, errno);
      }
      if (n == 0) throw Error(Errc::io, "audit log " + path.string() + " shrank while it was being read");
      got += static_cast<std::size_t>(n);
    }
    std::string_view chunk(buf.data(), want);
    std::size_t lf = chunk.rfind('\n');
    if (lf != std::string_view::npos) {
      tail.insert(0, chunk.substr(lf + 1));
      return tail;
    }
    tail.insert(0, chunk);
    pos = at;
    if (tail.size() > kMaxLine) return tail;  // too long: the caller reports it
  }
  return tail;
}

// A log opened for appending, locked, with the hash its next record chains to (64 zeros for an
// empty file).
struct OpenedLog {
  UniqueFd fd;
  std::uint64_t size = 0;
  std::string last_hash;
};

OpenedLog open_log(const std::filesystem::path& path) {
  OpenedLog out;
  bool created = true;
  int raw = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (raw < 0 && errno == EEXIST) {
    created = false;
    raw = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  }
  if (raw < 0) throw_io("cannot open", path, errno);
  out.fd.reset(raw);

  // Two writers would fork the chain: one catsignd per log.
  while (::flock(out.fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK)
      throw Error(Errc::io, "audit log " + path.string() +
                                " is in use by another process (another catsignd?): only one may write it");
    throw_io("cannot lock", path, errno);
  }

  if (created) {
    // Make the new file's name durable too, so the first record cannot vanish with it.
    std::filesystem::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd || ::fsync(dfd.get()) != 0) throw_io("cannot sync the folder of", path, errno);
  }

  UniqueFd rfd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!rfd) throw_io("cannot open", path, errno);
  struct stat st {};
  if (::fstat(rfd.get(), &st) != 0) throw_io("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode)) throw Error(Errc::io, "audit log " + path.string() + " is not a regular file");
  std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  out.size = size;
  if (size == 0) {
    out.last_hash = kZeroHash;
    return out;
  }

  const std::string advice = ": run `catsign audit verify " + path.string() +
                             "`, then move the log aside (keep it) so that catsignd starts a new one";
  char last = 0;
  ssize_t n;
  do {
    n = ::pread(rfd.get(), &last, 1, static_cast<off_t>(size - 1));
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_io("cannot read", path, errno);
  if (n != 1) throw Error(Errc::io, "audit log " + path.string() + " shrank while it was being read");
  if (last != '\n')
    throw Error(Errc::io, "audit log " + path.string() +
                              " ends in an incomplete line (no final LF; a write was interrupted?)" + advice);

  std::string line = read_last_line(rfd.get(), size, path);
  RecordFields fields;
  std::string why = check_record(line, fields);
  if (!why.empty())
    throw Error(Errc::io, "audit log " + path.string() + ": the last line is not a valid record (" + why + ")" + advice);
  out.last_hash = sha256_hex(line);
  return out;
}

}  // namespace

AuditLog::AuditLog(const std::filesystem::path& path) : path_(path) {
  OpenedLog log = open_log(path);
  fd_ = std::move(log.fd);
  prev_hash_ = std::move(log.last_hash);
  flusher_ = std::thread([this] { flush_loop(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  flush_cv_.notify_all();
  flusher_.join();
  // Whatever was written reaches the disk before the log is closed.
  try {
    sync(written_);
  } catch (const Error&) {
  }
}

namespace {

void check_shape(const nlohmann::json& record) {
  if (!record.is_object()) throw Error(Errc::internal, "audit record is not a JSON object");
  auto ev = record.find("event");
  if (ev == record.end() || !ev->is_string())
    throw Error(Errc::internal, "audit record has no \"event\" string");
}

}  // namespace

AuditLog::Ticket AuditLog::write(nlohmann::json record) {
  check_shape(record);
  std::lock_guard<std::mutex> lock(mutex_);
  return write_record(record);
}

AuditLog::Ticket AuditLog::write_record(nlohmann::json& record) {
  if (!broken_.empty())
    throw Error(Errc::io, "audit log " + path_.string() + " is unusable after an earlier failure (" + broken_ +
                              "): check it with `catsign audit verify` and restart catsignd");
  record["time"] = now_rfc3339_ms();
  record["prev"] = prev_hash_;
  // Compact; control characters are escaped, so the record is one line. Bytes that are not
  // UTF-8 (a file name, say) become U+FFFD rather than making the record unwritable.
  std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (line.size() > kMaxLine)
    throw Error(Errc::internal, "audit record of " + std::to_string(line.size()) + " bytes exceeds the " +
                                    std::to_string(kMaxLine) + "-byte line limit");
  std::string hash = sha256_hex(line);
  line.push_back('\n');

  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_.get(), line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      // Nothing written: the file is as it was and a later append may succeed. Part of a line
      // written: the file now ends in a fragment; stop writing to it.
      if (done > 0) broken_ = std::string("a record was written in part: ") + std::strerror(err);
      throw_io("cannot write to", path_, err);
    }
    done += static_cast<std::size_t>(n);
  }
  prev_hash_ = std::move(hash);
  return ++written_;
}

void AuditLog::sync(Ticket ticket) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (synced_ >= ticket) return;
    if (!broken_.empty())
      throw Error(Errc::io, "audit log " + path_.string() + " is not known to be on disk (" + broken_ +
                                "): check it with `catsign audit verify` and restart catsignd");
    if (syncing_) {
      synced_cv_.wait(lock);
      continue;
    }
    // This caller syncs for everyone: every record written so far, its own among them.
    syncing_ = true;
    const Ticket target = written_;
    const int fd = fd_.get();
    lock.unlock();
    const int rc = ::fdatasync(fd);
    const int err = errno;
    lock.lock();
    syncing_ = false;
    if (rc == 0) {
      synced_ = std::max(synced_, target);
    } else {
      // After a failed fsync the state on disk is unknown: stop writing until restarted.
      broken_ = std::string("fdatasync failed: ") + std::strerror(err);
    }
    synced_cv_.notify_all();
    if (rc != 0) throw_io("cannot fsync", path_, err);
  }
}

void AuditLog::append(nlohmann::json record) { sync(write(std::move(record))); }

void AuditLog::append_soon(nlohmann::json record) {
  Ticket t = write(std::move(record));
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    flush_to_ = std::max(flush_to_, t);
    // The flusher is woken once per round, not once per record: a wake-up per signature would
    // cost the daemon's two cores more than the flush saves.
    wake = !flush_armed_;
    flush_armed_ = true;
  }
  if (wake) flush_cv_.notify_one();
}

void AuditLog::flush_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    flush_cv_.wait(lock, [&] { return stopping_ || flush_armed_; });
    if (stopping_) return;
    // A disk does one flush at a time: an fsync of its own here would hold up the next
    // signature's, which must finish before that reply. While signatures come, each one's
    // fsync covers the record before it; the flusher syncs only what is left after a while.
    flush_cv_.wait_for(lock, kFlushDelay, [&] { return stopping_; });
    if (stopping_) return;
    flush_armed_ = false;
    if (flush_to_ <= synced_) continue;
    const Ticket t = flush_to_;
    lock.unlock();
    try {
      sync(t);
    } catch (const Error&) {
      // The next writer hears of it; nobody waits here.
    }
    lock.lock();
  }
}

std::optional<std::filesystem::path> AuditLog::reopen() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!broken_.empty())
    throw Error(Errc::io, "audit log " + path_.string() + " is unusable after an earlier failure (" + broken_ +
                              "): check it with `catsign audit verify` and restart catsignd");
  struct stat open_st {}, path_st {};
  if (::fstat(fd_.get(), &open_st) != 0) throw_io("cannot stat", path_, errno);
  if (::stat(path_.c_str(), &path_st) == 0 && path_st.st_dev == open_st.st_dev && path_st.st_ino == open_st.st_ino)
    return std::nullopt;  // not rotated

  // Where the open file is now (logrotate renamed it): the kernel knows its name.
  std::filesystem::path previous;
  std::error_code ec;
  previous = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd_.get()), ec);
  if (ec) previous = path_.string() + " (renamed)";

  OpenedLog next = open_log(path_);
  if (next.size != 0)
    throw Error(Errc::io, "cannot continue the audit log in " + path_.string() +
                              ": that file already holds records, so catsignd keeps writing " + previous.string() +
                              "; move " + path_.string() + " aside (keep it), then reopen again");
  // The descriptor changes only with no sync running on it, and only once everything written
  // to the old file is on disk: a ticket in the old file is never counted as synced by an
  // fdatasync of the new one. The lock stays held from here on, so no sync can start.
  synced_cv_.wait(lock, [&] { return !syncing_; });
  if (written_ > synced_) {
    if (::fdatasync(fd_.get()) != 0) {
      int err = errno;
      broken_ = std::string("fdatasync failed: ") + std::strerror(err);
      throw_io("cannot fsync", path_, err);
    }
    synced_ = written_;
  }
  nlohmann::json first = {{"event", kContinueEvent}, {"previous_file", previous.filename().string()}, {"result", "ok"}};
  UniqueFd old = std::move(fd_);
  fd_ = std::move(next.fd);
  const std::string old_hash = prev_hash_;
  const Ticket old_written = written_;
  try {
    write_record(first);  // "prev": the hash of the previous file's last line
    if (::fdatasync(fd_.get()) != 0) throw_io("cannot fsync", path_, errno);
    synced_ = written_;
  } catch (...) {
    // Keep writing where the chain still holds: the old file, as if the new one never was.
    fd_ = std::move(old);
    prev_hash_ = old_hash;
    written_ = old_written;
    broken_.clear();
    throw;
  }
  return previous;  // `old` closes here, which drops its lock
}

AuditVerifyResult verify_audit_log(const std::filesystem::path& path, const std::optional<std::string>& continues_from) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_io("cannot open", path, errno);

  AuditVerifyResult r;
  std::string expected = kZeroHash;
  std::string line;
  bool overlong = false;  // the current line has passed kMaxLine; its bytes are not kept
  std::uint64_t lineno = 0;

  auto fail = [&](std::string reason) {
    r.ok = false;
    r.first_bad_line = lineno;
    r.reason = std::move(reason);
    return r;
  };

  std::array<char, 1 << 16> buf;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot read", path, errno);
    }
    if (n == 0) break;
    std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
    while (!chunk.empty()) {
      std::size_t lf = chunk.find('\n');
      std::string_view piece = chunk.substr(0, lf);
      if (!overlong) {
        if (line.size() + piece.size() > kMaxLine) {
          overlong = true;
          line.clear();
        } else {
          line.append(piece);
        }
      }
      if (lf == std::string_view::npos) break;
      chunk.remove_prefix(lf + 1);

      ++lineno;
      if (overlong) return fail("line too long (more than " + std::to_string(kMaxLine) + " bytes)");
      RecordFields fields;
      std::string why = check_record(line, fields);
      if (!why.empty()) return fail(why);
      if (lineno == 1) {
        // The start of a chain, or the seam after a rotation.
        if (fields.event == kContinueEvent) {
          r.continues = fields.previous_file;
          if (continues_from && fields.prev != *continues_from)
            return fail("does not continue the file before it: \"prev\" is not the SHA-256 of that file's last line "
                        "(a file between them is missing, the files are out of order, or the earlier file's last "
                        "line was edited)");
          expected = fields.prev;
        } else if (continues_from) {
          return fail("does not continue the file before it: the first record is a \"" + fields.event.substr(0, 40) +
                      "\" event, not \"continue\" (the chain starts anew here)");
        } else if (fields.prev != kZeroHash) {
          return fail("\"prev\" of the first line is not 64 zeros (lines removed from the start, or edited)");
        }
      }
      if (fields.prev != expected) {
        return fail("\"prev\" does not match the SHA-256 of line " + std::to_string(lineno - 1) + " (line " +
                    std::to_string(lineno - 1) +
                    " or an earlier one was edited, or lines were removed or reordered)");
      }
      expected = sha256_hex(line);
      r.last_hash = expected;
      line.clear();
      r.lines = lineno;
    }
  }
  if (overlong) {
    ++lineno;
    return fail("line too long (more than " + std::to_string(kMaxLine) + " bytes)");
  }
  if (!line.empty()) {
    ++lineno;
    return fail("missing final LF (the last line is incomplete: a write was interrupted)");
  }
  return r;
}

}  // namespace catsign::daemon
