// SPDX-License-Identifier: Apache-2.0
#include "catsign/cli/signing_session.hpp"

#include <ctime>

#include "catsign/cli/pin_prompt.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/certificate_file.hpp"
#include "catsign/token/pin.hpp"
#include "catsign/util/file.hpp"

namespace catsign::cli {

namespace {

const char* purpose_text(SessionPurpose purpose) {
  switch (purpose) {
    case SessionPurpose::sign: return "to sign with it";
    case SessionPurpose::extend_key: return "to extend its expiry";
    case SessionPurpose::make_key: return "to make the key on it";
    case SessionPurpose::rebuild_certificate: return "to rebuild its certificate";
    case SessionPurpose::list_keys: return "to list its keys";
  }
  return "to use it";
}

token::Token open_and_login(const Config& config, const KeyConfig& key, std::optional<int> pin_fd,
                            SessionPurpose purpose) {
  if (purpose == SessionPurpose::sign || purpose == SessionPurpose::extend_key) require_certificate(config, key);
  token::disable_core_dumps();
  token::Token t = token::Token::open(config.token.module, key.uri);
  token::PinState state = t.pin_state();
  SecureString pin;
  if (!state.protected_path) {
    PinRequest request = pin_request_for(key, purpose_text(purpose));
    request.token = t.identity().label;
    pin = ask_pin(config, request, pin_fd);
  } else if (!pin_fd) {
    std::fprintf(stderr, "catsign: enter the PIN on the token's PIN pad\n");
  }
  t.login(pin);
  return t;
}

}  // namespace

SigningSession::SigningSession(const Config& config, const KeyConfig& key, std::optional<int> pin_fd,
                               SessionPurpose purpose)
    : key_config_(key), token_(open_and_login(config, key, pin_fd, purpose)) {}

openpgp::OpenPgpKey& SigningSession::key() {
  if (!key_) {
    openpgp::Certificate cert = openpgp::read_certificate_file(key_config_.certificate);
    if (cert.revoked())
      throw Error(Errc::refused, "certificate " + key_config_.certificate.string() + " (" +
                                     openpgp::format_fingerprint(cert.fingerprint) +
                                     ") is revoked: generate a new key with catsign keygen");
    // What an expired key signs, clients reject (RFC 4880 §5.2.3.6): refuse before the token works.
    if (auto expires = cert.expires_at(); expires && static_cast<std::uint64_t>(std::time(nullptr)) >= *expires)
      throw Error(Errc::refused, "key '" + key_config_.name + "' (" + openpgp::format_fingerprint(cert.fingerprint) +
                                     ") has expired: run catsign extend --key " + key_config_.name +
                                     " --expires DURATION first");
    try {
      key_ = std::make_unique<openpgp::OpenPgpKey>(token_.signer(), cert.key);
    } catch (const Error& e) {
      throw Error(e.code(), "key '" + key_config_.name + "' (" + key_config_.certificate.string() + "): " + e.what());
    }
  }
  return *key_;
}

}  // namespace catsign::cli
