// SPDX-License-Identifier: Apache-2.0
// catsign keygen: a key pair generated ON the token, its certificate and a revocation
// certificate written atomically to the paths the config names.
#include <cstdio>
#include <ctime>

#include "catsign/cli/command.hpp"
#include "catsign/cli/signing_session.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/util/file.hpp"

namespace catsign::cli {

namespace {

struct KeygenOptions {
  std::string config = kDefaultConfigPath;
  std::optional<std::string> key;
  unsigned bits = 3072;
  std::string uid;
  std::optional<int> pin_fd;
};

void refuse_existing(const std::filesystem::path& p, const char* what) {
  if (std::filesystem::exists(p))
    throw Error(Errc::refused, std::string(what) + " " + p.string() +
                                   " already exists: catsign keygen never replaces a key; move the file away "
                                   "or configure a new path and key label");
}

int run_keygen(const KeygenOptions& o) {
  Config config = load_config(o.config);
  const KeyConfig& kc = config.key(o.key);
  if (kc.revocation.empty())
    throw Error(Errc::usage, "[keys." + kc.name + "] in " + config.path.string() +
                                 " needs revocation = \"path\": keygen writes a revocation certificate there");
  token::Pkcs11Uri uri = token::Pkcs11Uri::parse(kc.uri);
  if (!uri.object_label)
    throw Error(Errc::usage, "[keys." + kc.name + "] uri must name the key with object=LABEL to generate it");
  refuse_existing(kc.certificate, "certificate");
  refuse_existing(kc.revocation, "revocation certificate");

  SigningSession session(config, kc, o.pin_fd, /*for_keygen=*/true);
  if (session.token().has_private_key(*uri.object_label))
    throw Error(Errc::refused, "token '" + session.token().identity().label + "' already holds a key labelled '" +
                                   *uri.object_label + "': catsign never overwrites a key; choose a new label");
  RsaPublicKey rsa = session.token().generate_key(*uri.object_label, o.bits);

  openpgp::PublicKey public_key{static_cast<std::uint32_t>(std::time(nullptr)), rsa};
  openpgp::OpenPgpKey key(session.token().signer(), public_key);
  openpgp::SignOptions options;
  options.creation_time = public_key.creation_time;
  Bytes cert = openpgp::make_certificate(key, o.uid, options);
  openpgp::Signature revocation = key.revoke_key(
      openpgp::RevocationReason::no_reason,
      "revocation certificate made at key generation; publish it if the token is lost or compromised", options);

  write_file_atomically(kc.certificate, as_bytes(openpgp::armor(openpgp::ArmorKind::public_key, cert)), 0644);
  // Anyone holding the revocation certificate can revoke the key: keep it private, and offline.
  write_file_atomically(kc.revocation,
                        as_bytes(openpgp::armor(openpgp::ArmorKind::public_key, revocation.packet())), 0600);

  std::printf("generated RSA-%u key '%s' on token '%s'\n", o.bits, uri.object_label->c_str(),
              session.token().identity().label.c_str());
  std::printf("fingerprint  %s\n", openpgp::format_fingerprint(key.fingerprint()).c_str());
  std::printf("certificate  %s\n", kc.certificate.c_str());
  std::printf("revocation   %s  (store it offline)\n", kc.revocation.c_str());
  return 0;
}

}  // namespace

void register_keygen(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<KeygenOptions>();
  CLI::App* cmd = app.add_subcommand(
      "keygen",
      "Generate an RSA key pair on the token, write its OpenPGP certificate and a revocation certificate");
  cmd->add_option("--config", o->config, "configuration file")->capture_default_str();
  cmd->add_option("--key", o->key, "key name in the config ([keys.NAME]); default: the only key, or [catalogs] key");
  cmd->add_option("--bits", o->bits, "RSA modulus size")->check(CLI::IsMember({2048, 3072, 4096}))->capture_default_str();
  cmd->add_option("--uid", o->uid, "user ID of the certificate, e.g. \"Example catalogs <catalogs@example.org>\"")->required();
  cmd->add_option("--pin-fd", o->pin_fd, "read the user PIN from this file descriptor instead of the terminal");
  cmd->callback([o, &ctx] { ctx.exit_code = run_keygen(*o); });
}

}  // namespace catsign::cli
