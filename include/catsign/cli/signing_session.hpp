// SPDX-License-Identifier: Apache-2.0
// One-shot access to configured keys on the token, for keygen, sign, sign-packages, resign,
// extend, export and keys: open the token, read the PIN (once), log in, and bind the token's
// keys to their OpenPGP certificates. Several keys (old and new while a key is rotated) live
// on one token and take one login.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catsign/config.hpp"
#include "catsign/openpgp/certificate.hpp"
#include "catsign/openpgp/signing.hpp"
#include "catsign/signing/pipeline.hpp"
#include "catsign/token/token.hpp"

namespace catsign::cli {

// What the PIN is asked for; the prompt says it. Only `sign` needs the certificate file: the
// others make it, rebuild it, or list what the token holds without it.
enum class SessionPurpose { sign, extend_key, make_key, rebuild_certificate, list_keys };

class SigningSession {
 public:
  // Opens the token named by the first key's URI and logs in with a PIN from `pin_fd` or the
  // terminal. The PIN is wiped as soon as the login is done; core dumps are off before it is
  // read. For `sign` and `extend_key`, a missing certificate is refused before the PIN is
  // asked for, naming the keygen command to run.
  SigningSession(const Config& config, std::vector<const KeyConfig*> keys, std::optional<int> pin_fd,
                 SessionPurpose purpose = SessionPurpose::sign);
  SigningSession(const Config& config, const KeyConfig& key, std::optional<int> pin_fd,
                 SessionPurpose purpose = SessionPurpose::sign)
      : SigningSession(config, std::vector<const KeyConfig*>{&key}, pin_fd, purpose) {}

  token::Token& token() noexcept { return token_; }

  // The first key bound to its configured certificate; refuses a mismatch (the wrong token
  // inserted, or the wrong certificate configured) with both named.
  openpgp::OpenPgpKey& key() { return *bound(0); }

  // Every key, in the order given, as the signing pipeline takes them: one signature each.
  std::vector<signing::DocumentSigner*> signers();
  // "FPR (name), FPR (name)" for summaries.
  std::string describe_keys();

 private:
  openpgp::OpenPgpKey* bound(std::size_t i);

  std::vector<const KeyConfig*> key_configs_;
  token::Token token_;
  std::vector<std::unique_ptr<openpgp::OpenPgpKey>> keys_;
  std::vector<std::unique_ptr<signing::KeySigner>> signers_;
};

// Prints a warning on stderr for each of the token's concerns about a key it just bound
// (a key that can also decrypt, docs/DESIGN.md "Key template").
void warn_about_key(token::Token& token, const KeyConfig& key);

}  // namespace catsign::cli
