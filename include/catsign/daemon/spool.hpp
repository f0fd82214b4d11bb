// SPDX-License-Identifier: Apache-2.0
// The spool (docs/DESIGN.md "Contract"): with [spool] dir set, the daemon also answers request files, so a
// signing host need not listen at all. A client drops NAME.req holding one SIGN or SIGNPKG
// line (best written as NAME.req.tmp and renamed); the daemon writes NAME.asc (armored
// detached), NAME.sig (armor=no) or NAME.signed (mode=clearsign), or NAME.err holding the ERR
// line, atomically and mode 0640 beside it, then removes NAME.req.
//
// The folder is watched with inotify (IN_CLOSE_WRITE, IN_MOVED_TO) on a thread of its own,
// scanned at start and rescanned every few seconds as a fallback. Request files are hostile
// until proven otherwise: NAME must be [A-Za-z0-9._-]{1,100} (others are ignored and logged
// once); symlinks are never followed, FIFOs never block, anything but a regular file with one
// link, at most 1025 bytes of one printable ASCII line, is answered with NAME.err. Nothing is
// ever written outside the folder: answers are written through the folder's descriptor
// (openat, renameat), never through a path. The peer is the file's owner (fstat of the opened
// file; pid 0 in the audit log), judged like a peer of the sign socket: the daemon's own uid,
// [daemon] sign_uids, or a member of sign_gids by the user database (the file's group counts
// for nothing), else ERR DENIED. A request is signed at most once: a folder where its answer
// goes is refused before signing, and a signature whose answer can't be placed gets NAME.err
// (or the request is moved aside to NAME.req.unanswered) instead of another try. A request that
// can't be answered otherwise (an I/O error, a busy token) is left in place and retried on later
// rescans, backing off; it never makes the thread spin.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "catsign/config.hpp"
#include "catsign/daemon/protocol.hpp"
#include "catsign/daemon/signing_service.hpp"

namespace catsign::daemon {

// NAME when `filename` is NAME.req with NAME made of [A-Za-z0-9._-]{1,100}; else nothing.
std::optional<std::string> spool_request_stem(std::string_view filename);
// ".asc", ".sig" or ".signed": the suffix of the answer to a request that was signed.
const char* spool_answer_suffix(const Request& request) noexcept;

class Spool {
 public:
  // Opens config.spool_dir and its inotify watch. Error(usage) when the folder is missing or
  // not a folder (create it: see packaging/tmpfiles.d/catsign.conf).
  Spool(const Config& config, SigningService& service);
  ~Spool();  // stops
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Starts the thread, which scans the folder at once.
  void start();
  // Wakes the thread and waits for it: a request being signed is finished first.
  void stop() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catsign::daemon
