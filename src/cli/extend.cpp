// SPDX-License-Identifier: Apache-2.0
// catsign extend: a new self-signature made on the token moves the key's expiry; the
// certificate is rewritten atomically with it. The key packet, and so the fingerprint, stays
// (RFC 4880 §5.2.3.3: the newest self-signature is the one that counts), so clients only
// import the new certificate.
#include <cstdio>
#include <algorithm>
#include <ctime>

#include "catsign/cli/command.hpp"
#include "catsign/cli/key_files.hpp"
#include "catsign/cli/signing_session.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/certificate_file.hpp"
#include "catsign/util/duration.hpp"
#include "catsign/util/file.hpp"

namespace catsign::cli {

namespace {

struct ExtendOptions {
  std::string config = kDefaultConfigPath;
  std::optional<std::string> key;
  std::string expires;
  std::optional<int> pin_fd;
};

int run_extend(const ExtendOptions& o) {
  Config config = load_config(o.config);
  const KeyConfig& kc = config.key(o.key);
  const openpgp::Certificate cert = openpgp::read_certificate_file(kc.certificate);
  if (cert.revoked())
    throw Error(Errc::refused, "certificate " + kc.certificate.string() + " (" +
                                   openpgp::format_fingerprint(cert.fingerprint) +
                                   ") is revoked: a revoked key is not extended; generate a new one");
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  const std::uint32_t expiration = *expiration_for(cert.key.creation_time, now, o.expires);

  SigningSession session(config, kc, o.pin_fd, SessionPurpose::extend_key);
  openpgp::OpenPgpKey key(session.token().signer(), cert.key);  // refuses the wrong token or certificate
  // The earlier self-signatures stay: signatures made before now are judged by them.
  std::vector<UserIdToCertify> uids;
  for (const openpgp::UserIdBinding& b : cert.user_ids) uids.push_back({b.user_id, b.self_signatures});
  // Newer than every earlier self-signature, even within the second keygen made it, so every
  // client takes the new one as the key's current state (RFC 4880 §5.2.3.3).
  std::uint32_t signed_at = static_cast<std::uint32_t>(now);
  if (const openpgp::Signature* newest = cert.newest_self_signature())
    signed_at = std::max(signed_at, newest->creation_time().value_or(0) + 1);
  const std::string armored = make_armored_certificate(key, uids, expiration, signed_at);

  // Keep the token's record in step, so `catsign export` rebuilds the extended certificate.
  const token::KeyInfo info = session.token().key_info(token::Pkcs11Uri::parse(kc.uri));
  session.token().write_key_record(info.label, token::KeyRecord{info.id, cert.key.creation_time, expiration});

  write_file_atomically(kc.certificate, as_bytes(armored), 0644);
  std::printf("extended key '%s' (%s)\n", kc.name.c_str(), openpgp::format_fingerprint(key.fingerprint()).c_str());
  std::printf("expires      %s\n", format_utc(std::uint64_t{cert.key.creation_time} + expiration).c_str());
  std::printf("certificate  %s  (publish it again; systemctl reload catsignd to use it)\n", kc.certificate.c_str());
  return 0;
}

}  // namespace

void register_extend(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ExtendOptions>();
  CLI::App* cmd = app.add_subcommand(
      "extend", "Move a key's expiry: a new self-signature made on the token, the certificate rewritten (same fingerprint)");
  cmd->add_option("--config", o->config, "configuration file")->capture_default_str();
  cmd->add_option("--key", o->key, "key name in the config ([keys.NAME]); default: the only key, or [catalogs] key");
  cmd->add_option("--expires", o->expires, "the key expires this long after now (e.g. 365d)")->required();
  cmd->add_option("--pin-fd", o->pin_fd, "read the user PIN from this file descriptor instead of the terminal");
  cmd->callback([o, &ctx] { ctx.exit_code = run_extend(*o); });
}

}  // namespace catsign::cli
