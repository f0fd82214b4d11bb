// The daemon's contact with systemd, through libsystemd: socket activation (sd_listen_fds) and
// readiness and status notification (sd_notify). Without systemd every call is a harmless
// no-op, so catsignd runs the same in a terminal.
#pragma once

#include <string>

namespace catsign::daemon {

// Listening sockets handed over by catsignd.socket, matched by FileDescriptorName= ("sign"
// and "admin"); -1 where systemd passed none. Refuses (Error(usage)) sockets that are not
// listening AF_UNIX stream sockets, or names it does not know.
struct ActivatedSockets {
  int sign = -1;
  int admin = -1;
};
ActivatedSockets sockets_from_systemd();

void notify_ready(const std::string& status);  // READY=1 and STATUS=
void notify_status(const std::string& status); // STATUS=, e.g. "unlocked, 6d 23h left"
void notify_stopping();                         // STOPPING=1

}  // namespace catsign::daemon
