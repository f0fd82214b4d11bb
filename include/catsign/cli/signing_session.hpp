// SPDX-License-Identifier: Apache-2.0
// One-shot access to a configured key on the token, for keygen, sign, sign-packages, resign,
// extend, export and keys: open
// the token, read the PIN (once), log in, and bind the token's key to its OpenPGP certificate.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "catsign/config.hpp"
#include "catsign/openpgp/certificate.hpp"
#include "catsign/openpgp/signing.hpp"
#include "catsign/token/token.hpp"

namespace catsign::cli {

// What the PIN is asked for; the prompt says it. Only `sign` needs the certificate file: the
// others make it, rebuild it, or list what the token holds without it.
enum class SessionPurpose { sign, extend_key, make_key, rebuild_certificate, list_keys };

class SigningSession {
 public:
  // Opens the token named by the key's URI and logs in with a PIN from `pin_fd` or the
  // terminal. The PIN is wiped as soon as the login is done; core dumps are off before it is
  // read. For `sign` and `extend_key`, a missing certificate is refused before the PIN is
  // asked for, naming the keygen command to run.
  SigningSession(const Config& config, const KeyConfig& key, std::optional<int> pin_fd,
                 SessionPurpose purpose = SessionPurpose::sign);

  token::Token& token() noexcept { return token_; }

  // The token's key bound to the configured certificate; refuses a mismatch (the wrong token
  // inserted, or the wrong certificate configured) with both named.
  openpgp::OpenPgpKey& key();

 private:
  const KeyConfig& key_config_;
  token::Token token_;
  std::unique_ptr<openpgp::OpenPgpKey> key_;
};

}  // namespace catsign::cli
