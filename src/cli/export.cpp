// SPDX-License-Identifier: Apache-2.0
// catsign export: the certificate rebuilt from the token alone, for when the file is lost. A
// v4 fingerprint hashes the key's creation time (RFC 4880 §12.2), which keygen recorded on the
// token beside the key (token/key_record.hpp); the key, that time and the configured user ID
// give the same fingerprint again, with a new self-signature made on the token.
#include <unistd.h>

#include <cstdio>

#include "catsign/cli/command.hpp"
#include "catsign/cli/key_files.hpp"
#include "catsign/cli/signing_session.hpp"
#include "catsign/error.hpp"
#include "catsign/util/file.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::cli {

namespace {

struct ExportOptions {
  std::string config = kDefaultConfigPath;
  std::optional<std::string> key;
  std::string output;  // empty: stdout
  std::optional<int> pin_fd;
};

int run_export(const ExportOptions& o) {
  Config config = load_config(o.config);
  const KeyConfig& kc = config.key(o.key);
  if (kc.uid.empty())
    throw Error(Errc::usage, "[keys." + kc.name + "] in " + config.path.string() +
                                 " needs uid = \"Name <email>\": export rebuilds the certificate with that user ID");
  SigningSession session(config, kc, o.pin_fd, SessionPurpose::rebuild_certificate);  // the certificate may be lost
  token::Token& token = session.token();
  const token::KeyInfo info = token.key_info(token::Pkcs11Uri::parse(kc.uri));
  const std::optional<token::KeyRecord> record = token.key_record(info.label, info.id);
  if (!record)
    throw Error(Errc::usage, "token '" + token.identity().label + "' holds no creation time for key " +
                                 quote_label(info.label) +
                                 " (it was not made by catsign keygen): its fingerprint can't be rebuilt; keep the "
                                 "certificate file, or make a new key");
  openpgp::OpenPgpKey key(token.signer(token::Pkcs11Uri::parse(kc.uri)),
                          openpgp::PublicKey{record->created, token.signer(token::Pkcs11Uri::parse(kc.uri)).public_key()});
  // Made as of the key's creation, so the rebuilt certificate binds every signature the key
  // has made (clients look for the self-signature valid at a signature's time).
  const std::string armored = make_armored_certificate(key, {{kc.uid, {}}}, record->expiration, record->created);
  if (o.output.empty()) {
    std::fwrite(armored.data(), 1, armored.size(), stdout);
  } else {
    write_file_atomically(o.output, as_bytes(armored), 0644);
  }
  std::fprintf(stderr, "catsign: exported key '%s' (%s)%s%s\n", kc.name.c_str(),
               openpgp::format_fingerprint(key.fingerprint()).c_str(), o.output.empty() ? "" : " to ",
               o.output.c_str());
  return 0;
}

}  // namespace

void register_export(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "export", "Rebuild a key's certificate from the token and the configured uid (same fingerprint)");
  cmd->add_option("--config", o->config, "configuration file")->capture_default_str();
  cmd->add_option("--key", o->key, "key name in the config ([keys.NAME]); default: the only key, or [catalogs] key");
  cmd->add_option("--output,-o", o->output, "write the armored certificate here (atomically); default: stdout");
  cmd->add_option("--pin-fd", o->pin_fd, "read the user PIN from this file descriptor instead of the terminal");
  cmd->callback([o, &ctx] { ctx.exit_code = run_export(*o); });
}

}  // namespace catsign::cli
