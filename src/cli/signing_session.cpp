// SPDX-License-Identifier: Apache-2.0
#include "catsign/cli/signing_session.hpp"

#include <cstdio>
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

const KeyConfig& first(const std::vector<const KeyConfig*>& keys) {
  if (keys.empty()) throw Error(Errc::internal, "signing session: no key");
  return *keys.front();
}

}  // namespace

void warn_about_key(token::Token& token, const KeyConfig& key) {
  for (const std::string& w : token.key_warnings(token::Pkcs11Uri::parse(key.uri)))
    std::fprintf(stderr, "catsign: warning: key '%s': %s\n", key.name.c_str(), w.c_str());
}

// Every key's certificate is checked before the PIN is asked for (open_and_login checks the
// first), so a key not made yet costs no login.
static const KeyConfig& checked(const Config& config, const std::vector<const KeyConfig*>& keys,
                                SessionPurpose purpose) {
  if (purpose == SessionPurpose::sign || purpose == SessionPurpose::extend_key)
    for (const KeyConfig* k : keys) require_certificate(config, *k);
  return first(keys);
}

SigningSession::SigningSession(const Config& config, std::vector<const KeyConfig*> keys, std::optional<int> pin_fd,
                               SessionPurpose purpose)
    : key_configs_(std::move(keys)),
      token_(open_and_login(config, checked(config, key_configs_, purpose), pin_fd, purpose)) {
  keys_.resize(key_configs_.size());
}

openpgp::OpenPgpKey* SigningSession::bound(std::size_t i) {
  if (!keys_.at(i)) {
    const KeyConfig& kc = *key_configs_.at(i);
    openpgp::Certificate cert = openpgp::read_certificate_file(kc.certificate);
    if (cert.revoked())
      throw Error(Errc::refused, "certificate " + kc.certificate.string() + " (" +
                                     openpgp::format_fingerprint(cert.fingerprint) +
                                     ") is revoked: generate a new key with catsign keygen");
    // What an expired key signs, clients reject (RFC 4880 §5.2.3.6): refuse before the token works.
    if (auto expires = cert.expires_at(); expires && static_cast<std::uint64_t>(std::time(nullptr)) >= *expires)
      throw Error(Errc::refused, "key '" + kc.name + "' (" + openpgp::format_fingerprint(cert.fingerprint) +
                                     ") has expired: run catsign extend --key " + kc.name +
                                     " --expires DURATION first");
    try {
      // Every key must be on the token the first one names: one token, one login.
      keys_[i] = std::make_unique<openpgp::OpenPgpKey>(token_.signer(token::Pkcs11Uri::parse(kc.uri)), cert.key);
    } catch (const Error& e) {
      throw Error(e.code(), "key '" + kc.name + "' (" + kc.certificate.string() + "): " + e.what());
    }
    warn_about_key(token_, kc);
  }
  return keys_[i].get();
}

std::vector<signing::DocumentSigner*> SigningSession::signers() {
  if (signers_.empty())
    for (std::size_t i = 0; i < key_configs_.size(); ++i) signers_.push_back(std::make_unique<signing::KeySigner>(*bound(i)));
  std::vector<signing::DocumentSigner*> out;
  for (const auto& s : signers_) out.push_back(s.get());
  return out;
}

std::string SigningSession::describe_keys() {
  std::string out;
  for (std::size_t i = 0; i < key_configs_.size(); ++i) {
    if (!out.empty()) out += ", ";
    out += openpgp::format_fingerprint(bound(i)->fingerprint());
    out += " (" + key_configs_[i]->name + ")";
  }
  return out;
}

}  // namespace catsign::cli
