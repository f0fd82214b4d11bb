// SPDX-License-Identifier: Apache-2.0
// catsign keys: every private key on the token, so an operator sees what a token holds before
// trusting it: label, CKA_ID, type and size, fingerprint, the configured key that uses it,
// whether it is sign-only and whether it wants the PIN for every signature.
#include <cstdio>
#include <set>

#include "catsign/cli/command.hpp"
#include "catsign/cli/signing_session.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/certificate_file.hpp"

namespace catsign::cli {

namespace {

struct KeysOptions {
  std::string config = kDefaultConfigPath;
  std::optional<int> pin_fd;
};

// The configured keys whose URI names this key on this token.
std::string users_of(const Config& config, const token::TokenIdentity& token, const token::KeyDetails& k) {
  std::string names;
  for (const auto& [name, kc] : config.keys) {
    token::Pkcs11Uri uri;
    try {
      uri = token::Pkcs11Uri::parse(kc.uri);
    } catch (const Error&) {
      continue;
    }
    if (!uri.matches(token) || !uri.names_object()) continue;
    if (uri.object_label && *uri.object_label != k.label) continue;
    if (uri.object_id && *uri.object_id != k.id) continue;
    names += (names.empty() ? "" : ",") + name;
  }
  return names.empty() ? "-" : names;
}

// The fingerprint from the creation time the token records, else from a configured
// certificate that holds this very key; nullopt when neither knows it.
std::optional<openpgp::Fingerprint> fingerprint_of(const Config& config, token::Token& token,
                                                   const token::KeyDetails& k) {
  if (!k.public_key) return std::nullopt;
  try {
    if (auto record = token.key_record(k.label, k.id))
      return openpgp::PublicKey{record->created, *k.public_key}.fingerprint();
  } catch (const Error&) {
  }
  for (const auto& [name, kc] : config.keys) {
    try {
      openpgp::Certificate cert = openpgp::read_certificate_file(kc.certificate);
      PublicKeyMaterial mine = *k.public_key;
      mine.rsa = RsaPublicKey{without_leading_zeros(mine.rsa.n), without_leading_zeros(mine.rsa.e)};
      if (cert.key.material == mine) return cert.fingerprint;
    } catch (const Error&) {
    }
  }
  return std::nullopt;
}

int run_keys(const KeysOptions& o) {
  Config config = load_config(o.config);
  if (config.keys.empty())
    throw Error(Errc::usage, config.path.string() + " configures no [keys.NAME]: its uri names the token to list");
  // Any configured key names the token: catsign keeps its keys on one token (token.hpp).
  const KeyConfig& kc = config.keys.begin()->second;
  SigningSession session(config, kc, o.pin_fd, SessionPurpose::list_keys);  // the certificate may be lost
  token::Token& token = session.token();
  std::printf("token '%s' (serial %s)\n", token.identity().label.c_str(), token.identity().serial.c_str());
  std::printf("%-20s %-32s %-11s %-40s %-12s %-9s %s\n", "LABEL", "ID", "TYPE", "FINGERPRINT", "CONFIGURED",
              "SIGN-ONLY", "ALWAYS-AUTH");
  for (const token::KeyDetails& k : token.key_details()) {
    auto fp = fingerprint_of(config, token, k);
    std::printf("%-20s %-32s %-11s %-40s %-12s %-9s %s\n", k.label.empty() ? "-" : k.label.c_str(),
                k.id.empty() ? "-" : to_hex(k.id).c_str(), k.type.c_str(),
                fp ? openpgp::format_fingerprint(*fp).c_str() : "-", users_of(config, token.identity(), k).c_str(),
                k.not_sign_only ? "no" : "yes", k.always_authenticate ? "yes" : "no");
    if (k.can_decrypt)
      std::printf("  %s: not sign-only: it can also decrypt (CKA_DECRYPT=true)\n", k.label.c_str());
    else if (k.not_sign_only)
      std::printf("  %s: not sign-only (%s does not hold)\n", k.label.c_str(), k.not_sign_only->c_str());
    if (k.sign_only_because)
      std::printf("  %s: sign-only in effect (CKA_DECRYPT is true, but %s)\n", k.label.c_str(),
                  k.sign_only_because->c_str());
  }
  return 0;
}

}  // namespace

void register_keys(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<KeysOptions>();
  CLI::App* cmd = app.add_subcommand("keys", "List every private key on the token: label, id, type, fingerprint, "
                                             "configured use, sign-only, always-authenticate");
  cmd->add_option("--config", o->config, "configuration file (its keys' uri names the token)")->capture_default_str();
  cmd->add_option("--pin-fd", o->pin_fd, "read the user PIN from this file descriptor instead of the terminal");
  cmd->callback([o, &ctx] { ctx.exit_code = run_keys(*o); });
}

}  // namespace catsign::cli
