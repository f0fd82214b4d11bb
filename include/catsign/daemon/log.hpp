// SPDX-License-Identifier: Apache-2.0
// catsignd's log: one line per event on stderr. Under systemd, stderr is the journal, and
// each line starts with its syslog priority ("<3>" error, "<4>" warning, "<6>" info, "<7>"
// debug, sd-daemon(3)) so that journald stores it at that priority and `journalctl -p warning`
// finds the warnings. Elsewhere (a terminal, a file) lines read "warning: ...", as before.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace catsign::daemon {

// A logger on stderr named `name`, in the journal's form when stderr_is_journal().
std::shared_ptr<spdlog::logger> make_daemon_logger(const std::string& name);

// The syslog priority of an spdlog level: critical 2, error 3, warn 4, info 6, debug/trace 7.
int syslog_priority(spdlog::level::level_enum level) noexcept;

}  // namespace catsign::daemon
