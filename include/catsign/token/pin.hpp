// SPDX-License-Identifier: Apache-2.0
// PINs come from an inherited file descriptor (--pin-fd, like gpg's --passphrase-fd) or from
// the terminal with echo off; never from argv or the environment (docs/DESIGN.md "Contract").
#pragma once

#include <optional>
#include <string>

#include "catsign/util/secure_string.hpp"

namespace catsign::token {

// With pin_fd: reads one line (up to LF or EOF) from that descriptor, strips a trailing CR/LF,
// then closes the descriptor. Without: opens /dev/tty, prints `prompt`, reads with echo off and
// restores the terminal on every exit, including SIGINT/SIGTERM/SIGHUP/SIGQUIT while waiting.
// An empty PIN is refused with Error(Errc::usage); so is a missing terminal.
SecureString read_pin(const std::string& prompt, std::optional<int> pin_fd);

// For processes that hold a PIN: no core files (RLIMIT_CORE 0) and not dumpable
// (PR_SET_DUMPABLE 0, which also keeps same-uid ptrace and /proc/PID/mem out).
// Throws Error(Errc::internal) if either call fails.
void disable_core_dumps();

}  // namespace catsign::token
