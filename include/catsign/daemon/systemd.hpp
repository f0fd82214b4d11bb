// SPDX-License-Identifier: Apache-2.0
// The daemon's contact with systemd, through libsystemd: socket activation (sd_listen_fds),
// readiness and status notification (sd_notify), the service watchdog (sd_watchdog_enabled)
// and whether stderr is the journal (JOURNAL_STREAM). Without systemd every call is a harmless
// no-op, so catsignd runs the same in a terminal.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace catsign::daemon {

// Listening sockets handed over by catsignd.socket, matched by FileDescriptorName= ("sign"
// and "admin"); -1 where systemd passed none. Refuses (Error(usage)) sockets that are not
// listening AF_UNIX stream sockets, or names it does not know.
// catsignd-http.socket passes the HTTPS front's listeners, any number, all named "http";
// they must be listening TCP sockets.
struct ActivatedSockets {
  int sign = -1;
  int admin = -1;
  std::vector<int> http;
};
ActivatedSockets sockets_from_systemd();

void notify_ready(const std::string& status);  // READY=1 and STATUS=
void notify_status(const std::string& status); // STATUS=, e.g. "unlocked, 6d 23h left"
void notify_stopping();                         // STOPPING=1

// The service watchdog (WatchdogSec= in the unit). systemd sets WATCHDOG_USEC (and
// WATCHDOG_PID) when it wants WATCHDOG=1 keep-alives; the event loop calls kick() each time it
// turns, so a loop that is stuck stops the keep-alives and systemd restarts the service.
class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;
  // Reads (and unsets, so that nothing the daemon starts believes it is watched) the
  // watchdog variables; disabled when they are absent or name another process.
  Watchdog();
  bool enabled() const noexcept { return interval_.count() > 0; }
  std::chrono::microseconds interval() const noexcept { return interval_; }
  // Sends WATCHDOG=1 when a third of the interval has passed since the last one, so a late
  // tick still lands in time; a no-op when disabled.
  void kick(Clock::time_point now = Clock::now());

 private:
  std::chrono::microseconds interval_{0};
  Clock::time_point last_{};
  bool sent_ = false;
};

// True when stderr is connected to the journal: JOURNAL_STREAM names stderr's device and
// inode ("DEV:INODE" in decimal, sd-daemon(3), systemd.exec(5)). A JOURNAL_STREAM inherited
// by a process whose stderr was redirected elsewhere does not match.
bool stderr_is_journal();

}  // namespace catsign::daemon
