// SPDX-License-Identifier: Apache-2.0
// The daemon's contact with systemd. See systemd.hpp for the contract.
//
// Socket activation: catsignd-sign.socket and catsignd-admin.socket hand over one listening
// socket each, named by FileDescriptorName= ("sign", "admin"); catsignd-http.socket hands
// over the HTTPS front's TCP listeners ("http"). Anything else in the passed set
// is a configuration mistake that would otherwise be served silently (a datagram socket, a TCP
// port, a socket whose name nobody set), so it is refused before the daemon accepts anything.
//
// The watchdog: WATCHDOG=1 goes out from the event loop's once-a-second tick, never from a
// thread of its own, so it stops exactly when the loop does (a hung token call on the event
// thread, a deadlock), and systemd restarts the daemon. WatchdogSec= must leave room for the
// tick: at least 3s.
//
// Notification: sd_notify() is a no-op returning 0 when NOTIFY_SOCKET is unset, which is what
// makes catsignd run the same in a terminal. Failures to notify are not fatal: systemd notices
// a missing READY=1 by itself (TimeoutStartSec=).
#include "catsign/daemon/systemd.hpp"

#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "catsign/error.hpp"

namespace catsign::daemon {

namespace {

// Closes every passed descriptor and throws; the daemon is about to exit anyway, but a caller
// that catches the error must not be left holding sockets it never asked for.
[[noreturn]] void refuse(int n, char** names, const std::string& why) {
  for (int i = 0; i < n; ++i) {
    ::close(SD_LISTEN_FDS_START + i);
    std::free(names ? names[i] : nullptr);
  }
  std::free(names);
  throw Error(Errc::usage, "socket activation: " + why);
}

// STATUS= is one line: a newline in the text would start another assignment (READY=1, ...).
std::string one_line(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

void notify(const std::string& message) {
  // unset_environment = 0: later calls (status updates, STOPPING=1) must still find the socket.
  (void)sd_notify(0, message.c_str());
}

}  // namespace

ActivatedSockets sockets_from_systemd() {
  ActivatedSockets out;
  char** names = nullptr;
  // unset_environment = 1: LISTEN_* describe this process only; nothing the daemon might start
  // (an expiry command) should believe it was handed these descriptors.
  int n = sd_listen_fds_with_names(1, &names);
  if (n < 0) throw Error(Errc::usage, std::string("socket activation: ") + std::strerror(-n));
  for (int i = 0; i < n; ++i) {
    int fd = SD_LISTEN_FDS_START + i;
    std::string_view name = names && names[i] ? names[i] : "unknown";
    if (name == "http") {
      int r = sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, 0);
      if (r <= 0)
        refuse(n, names, "the 'http' socket is not a listening TCP socket; use ListenStream=192.0.2.10:9981");
      out.http.push_back(fd);
      continue;
    }
    int* slot = nullptr;
    if (name == "sign")
      slot = &out.sign;
    else if (name == "admin")
      slot = &out.admin;
    else
      refuse(n, names,
             "systemd passed a socket named '" + std::string(name) +
                 "'; catsignd knows only FileDescriptorName=sign, admin and http");
    if (*slot != -1)
      refuse(n, names, "systemd passed two sockets named '" + std::string(name) + "'");
    int r = sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0);
    if (r < 0)
      refuse(n, names, "cannot inspect the '" + std::string(name) + "' socket: " + std::strerror(-r));
    if (r == 0)
      refuse(n, names,
             "the '" + std::string(name) +
                 "' socket is not a listening Unix stream socket; use ListenStream=/run/catsign/" +
                 std::string(name) + ".sock");
    *slot = fd;
  }
  for (int i = 0; i < n; ++i) std::free(names ? names[i] : nullptr);
  std::free(names);
  return out;
}

void notify_ready(const std::string& status) { notify("READY=1\nSTATUS=" + one_line(status)); }

void notify_status(const std::string& status) { notify("STATUS=" + one_line(status)); }

void notify_stopping() { notify("STOPPING=1"); }

Watchdog::Watchdog() {
  std::uint64_t usec = 0;
  // > 0: enabled for this process (WATCHDOG_PID, when set, is ours); 0: not asked; < 0: the
  // variables are malformed, which systemd never does: treat as not asked.
  if (sd_watchdog_enabled(1, &usec) > 0 && usec > 0) interval_ = std::chrono::microseconds(usec);
}

void Watchdog::kick(Clock::time_point now) {
  if (!enabled()) return;
  if (sent_ && now - last_ < interval_ / 3) return;
  notify("WATCHDOG=1");
  last_ = now;
  sent_ = true;
}

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (!stream) return false;
  unsigned long long dev = 0, ino = 0;
  char tail = 0;
  if (std::sscanf(stream, "%llu:%llu%c", &dev, &ino, &tail) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

}  // namespace catsign::daemon
