// SPDX-License-Identifier: Apache-2.0
// Where a command gets the PIN from: an inherited descriptor (--pin-fd), the configured
// pinentry program, or the terminal with echo off. Never argv or the environment.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "catsign/config.hpp"
#include "catsign/util/secure_string.hpp"

namespace catsign::cli {

// What the person is asked for: the PIN of which token, for which key, to do what.
struct PinRequest {
  std::string token;    // the token's label ("" when the key's URI names none)
  std::string key;      // the configured key, [keys.NAME]
  std::string uri;      // the key's PKCS#11 URI, shown to tell two tokens apart
  std::string purpose;  // "to unlock catsignd for 7d 0h", "to sign with it"
  // How long a pinentry waits for the person before it gives up (its SETTIMEOUT).
  std::chrono::seconds timeout{300};

  std::string prompt() const;       // one line for the terminal, ending in ": "
  std::string description() const;  // the pinentry dialog's text (SETDESC)
};

// The request for a configured key: the token label comes from the key's URI.
PinRequest pin_request_for(const KeyConfig& key, const std::string& purpose);

SecureString ask_pin(const Config& config, const PinRequest& request, std::optional<int> pin_fd);

// Asks `program` (pinentry-tty, pinentry-curses, pinentry-gnome3, ...; a name is looked up
// in PATH) for the PIN through libassuan, as gpg-agent does: OPTION ttyname (GPG_TTY, else
// the terminal on stdin, stdout or stderr), ttytype (TERM), lc-ctype and lc-messages, then
// SETTITLE, SETDESC naming the token and key, SETPROMPT, SETTIMEOUT and GETPIN. It never sends
// SETKEYINFO, so no pinentry offers to store the PIN in a password manager. Error(usage) when
// the program can't be found or started, or fails: the message carries the pinentry's own
// error text ("Operation cancelled", "Timeout", ...). The PIN is received into wiped memory
// only, and every buffer libassuan allocates is wiped when it is freed.
SecureString read_pin_with_pinentry(const std::string& program, const PinRequest& request);

}  // namespace catsign::cli
