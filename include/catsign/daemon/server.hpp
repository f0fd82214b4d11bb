// The sockets: the sign socket (SIGN, SIGNPKG, STATUS, PING) and the admin socket (UNLOCK,
// LOCK, STATUS). One event thread accepts, authorises peers by SO_PEERCRED, reads request
// lines against a deadline and answers the cheap requests itself; SIGN and UNLOCK go to a
// small pool of workers, so a slow token never stops STATUS or LOCK. Connections are bounded
// in number, requests in length and time; idle, slow, half-sent and garbage connections are
// dropped without hurting anyone else.
#pragma once

#include <functional>
#include <memory>

#include "catsign/config.hpp"
#include "catsign/daemon/signing_service.hpp"
#include "catsign/daemon/systemd.hpp"

namespace catsign::daemon {

class Server {
 public:
  // Uses the sockets systemd passed; creates the others at the configured paths (mode 0660
  // sign, 0600 admin; a stale socket file is replaced, anything else at the path is refused).
  Server(const Config& config, SigningService& service, ActivatedSockets activated);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves until stop(). `tick` runs about once a second on the event thread (expiry, status).
  void run(const std::function<void()>& tick);
  // Safe from any thread and from a signal handler.
  void stop() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catsign::daemon
