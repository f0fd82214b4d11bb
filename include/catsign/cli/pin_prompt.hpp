// Where a command gets the PIN from: an inherited descriptor (--pin-fd), the configured
// pinentry program, or the terminal with echo off. Never argv or the environment.
#pragma once

#include <optional>
#include <string>

#include "catsign/config.hpp"
#include "catsign/util/secure_string.hpp"

namespace catsign::cli {

SecureString ask_pin(const Config& config, const std::string& prompt, std::optional<int> pin_fd);

// Asks `program` (pinentry-curses, pinentry-gnome3, ...) through the Assuan commands SETDESC,
// SETPROMPT and GETPIN. Error(usage) when it can't be started, the person cancels, or it
// answers something else; the PIN is unescaped into wiped memory only.
SecureString read_pin_with_pinentry(const std::string& program, const std::string& description);

}  // namespace catsign::cli
