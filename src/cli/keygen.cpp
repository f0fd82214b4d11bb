// SPDX-License-Identifier: Apache-2.0
// catsign keygen: a key pair generated ON the token, its certificate and a revocation
// certificate written atomically to the paths the config names.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "catsign/cli/command.hpp"
#include "catsign/cli/key_files.hpp"
#include "catsign/cli/signing_session.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/util/duration.hpp"
#include "catsign/util/file.hpp"

namespace catsign::cli {

namespace {

struct KeygenOptions {
  std::string config = kDefaultConfigPath;
  std::optional<std::string> key;
  std::optional<std::string> algo;  // rsa3072 unless --bits says another RSA size
  std::optional<unsigned> bits;
  std::optional<std::string> uid;   // else [keys.NAME] uid
  std::optional<std::string> expires;
  std::optional<int> pin_fd;
  bool allow_decrypt = false;
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

  // --bits N is shorthand for --algo rsaN; both together must agree.
  KeySpec spec = parse_key_spec(o.algo.value_or(o.bits ? "rsa" + std::to_string(*o.bits) : "rsa3072"));
  if (o.bits && (spec.algorithm != KeyAlgorithm::rsa || spec.rsa_bits != *o.bits))
    throw Error(Errc::usage, "--bits " + std::to_string(*o.bits) + " and --algo " + *o.algo +
                                 " disagree: --bits is shorthand for --algo rsa" + std::to_string(*o.bits));
  const std::string uid = o.uid.value_or(kc.uid);
  if (uid.empty())
    throw Error(Errc::usage, "the certificate needs a user ID: pass --uid \"Name <email>\" or set uid in [keys." +
                                 kc.name + "] of " + config.path.string());
  const auto created = static_cast<std::uint32_t>(std::time(nullptr));
  const std::uint32_t expiration = expiration_for(created, created, o.expires).value_or(0);

  SigningSession session(config, kc, o.pin_fd, SessionPurpose::make_key);
  if (session.token().has_private_key(*uri.object_label))
    throw Error(Errc::refused, "token '" + session.token().identity().label + "' already holds a key labelled '" +
                                   *uri.object_label + "': catsign never overwrites a key; choose a new label");
  // The creation time goes on the token with the key (token/key_record.hpp): the fingerprint
  // hashes it, so `catsign export` can rebuild this certificate from the token alone.
  // What the token decided itself (a usage attribute it would not take, a key that can also
  // decrypt) is said on stderr, one line each.
  PublicKeyMaterial material = session.token().generate_key(
      *uri.object_label, spec, created, expiration,
      [](const std::string& notice) { std::fprintf(stderr, "catsign: %s\n", notice.c_str()); }, o.allow_decrypt);

  openpgp::PublicKey public_key{created, material};
  openpgp::Fingerprint fingerprint{};
  try {
    openpgp::OpenPgpKey key(session.token().signer(), public_key);
    const std::string cert = make_armored_certificate(key, {{uid, {}}}, expiration, created);
    openpgp::SignOptions options;
    options.hash = key.default_hash();
    options.creation_time = created;
    openpgp::Signature revocation = key.revoke_key(
        openpgp::RevocationReason::no_reason,
        "revocation certificate made at key generation; publish it if the token is lost or compromised", options);

    write_file_atomically(kc.certificate, as_bytes(cert), 0644);
    // Anyone holding the revocation certificate can revoke the key: keep it private, and offline.
    write_file_atomically(kc.revocation,
                          as_bytes(openpgp::armor(openpgp::ArmorKind::public_key, revocation.packet())), 0600);
    fingerprint = key.fingerprint();
  } catch (const Error& e) {
    // A key without its certificate is of no use until `catsign export` rebuilds it, and a
    // keygen that failed should leave nothing to wonder about: take the pair off the token
    // again, and leave no half-written files.
    std::size_t removed = session.token().discard_generated_key();
    std::error_code ec;
    for (const std::filesystem::path& p : {kc.certificate, kc.revocation}) std::filesystem::remove(p, ec);
    throw Error(e.code(), std::string(e.what()) + (removed > 0 ? "; the new key pair was removed from the token"
                                                               : "; the new key pair could not be removed: delete "
                                                                 "it with pkcs11-tool --delete-object"));
  }

  std::printf("generated %s key '%s' on token '%s'\n", material.describe().c_str(), uri.object_label->c_str(),
              session.token().identity().label.c_str());
  std::printf("fingerprint  %s\n", openpgp::format_fingerprint(fingerprint).c_str());
  if (expiration != 0)
    std::printf("expires      %s\n", format_utc(std::uint64_t{created} + expiration).c_str());
  std::printf("certificate  %s\n", kc.certificate.c_str());
  std::printf("revocation   %s  (store it offline)\n", kc.revocation.c_str());
  return 0;
}

}  // namespace

void register_keygen(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<KeygenOptions>();
  CLI::App* cmd = app.add_subcommand(
      "keygen",
      "Generate a key pair on the token, write its OpenPGP certificate and a revocation certificate");
  cmd->add_option("--config", o->config, "configuration file")->capture_default_str();
  cmd->add_option("--key", o->key, "key name in the config ([keys.NAME]); default: the only key, or [catalogs] key");
  cmd->add_option("--algo", o->algo,
                  "key type: rsa2048, rsa3072 (default), rsa4096, nistp256, nistp384 or ed25519 (README: which clients "
                  "need what)")
      ->check(CLI::IsMember({"rsa2048", "rsa3072", "rsa4096", "nistp256", "nistp384", "ed25519"}));
  cmd->add_option("--bits", o->bits, "RSA modulus size, shorthand for --algo rsaN")->check(CLI::IsMember({2048, 3072, 4096}));
  cmd->add_option("--uid", o->uid,
                  "user ID of the certificate, e.g. \"Example catalogs <catalogs@example.org>\"; default: uid in "
                  "[keys.NAME]");
  cmd->add_option("--expires", o->expires,
                  "the key expires this long after now (e.g. 730d); default: never. catsign extend moves it");
  cmd->add_flag("--allow-decrypt", o->allow_decrypt,
                "keep a key the token makes able to decrypt as well (a TPM's RSA keys); default: delete it and refuse");
  cmd->add_option("--pin-fd", o->pin_fd, "read the user PIN from this file descriptor instead of the terminal");
  cmd->callback([o, &ctx] { ctx.exit_code = run_keygen(*o); });
}

}  // namespace catsign::cli
