// SPDX-License-Identifier: Apache-2.0
// The sockets: the sign socket (SIGN, SIGNPKG, STATUS, PING) and the admin socket (UNLOCK,
// LOCK, STATUS). One event thread accepts, authorises peers by SO_PEERCRED, reads request
// lines against a deadline and answers the cheap requests itself; SIGN and UNLOCK go to a
// small pool of workers, so a slow token never stops STATUS or LOCK. Workers only compute
// replies: the event thread writes every reply without blocking, so a peer that does not read
// holds no worker. Connections are bounded in number (the sign socket by max_connections, the
// admin socket by a reserve of its own), requests in length (per line: several may come in one
// write) and time; idle, slow, half-sent, non-reading and garbage connections are dropped
// without hurting anyone else.
#pragma once

#include <functional>
#include <memory>

#include "catsign/config.hpp"
#include "catsign/daemon/live_config.hpp"
#include "catsign/daemon/signing_service.hpp"
#include "catsign/daemon/systemd.hpp"

namespace catsign::daemon {

class Server {
 public:
  // Uses the sockets systemd passed; creates the others at the configured paths (mode 0660
  // sign, 0600 admin). A stale socket file (nobody listens on it) is replaced; a socket on
  // which a live process answers, another catsignd most likely, is refused with Error(usage)
  // naming its pid, and so is anything at the path that is not a socket. Socket files the
  // server created are removed when run() returns and when it is destroyed.
  Server(LiveConfig& config, SigningService& service, ActivatedSockets activated);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Runs `ready` on the event thread whenever `fd` is readable (the daemon's signalfd). Call
  // before run(); `fd` stays the caller's.
  void watch(int fd, std::function<void()> ready);
  // Serves until stop(). `tick` runs about once a second on the event thread (expiry, status).
  void run(const std::function<void()>& tick);
  // Safe from any thread and from a signal handler.
  void stop() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catsign::daemon
