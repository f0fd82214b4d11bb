// SPDX-License-Identifier: Apache-2.0
// catsign sign: one-shot signing on the token, no daemon, for emergency re-signing. Several
// files take one PIN entry and one login. Each file is read once, in bounded memory, and each
// output is written atomically.
#include <cstdio>

#include "catsign/cli/command.hpp"
#include "catsign/cli/signing_session.hpp"
#include "catsign/error.hpp"
#include "catsign/signing/pipeline.hpp"
#include "catsign/util/file.hpp"

namespace catsign::cli {

namespace {

struct SignCommandOptions {
  std::string config = kDefaultConfigPath;
  std::vector<std::string> keys;  // --key a --key b: one signature each
  bool clearsign = false;
  bool binary = false;
  std::string hash;  // empty: the key's own (SHA-384 for P-384, else SHA-256)
  std::string output;
  std::optional<int> pin_fd;
  std::vector<std::string> files;
};

signing::Form form_of(const SignCommandOptions& o) {
  return o.clearsign ? signing::Form::cleartext : o.binary ? signing::Form::detached_binary : signing::Form::detached_armored;
}

std::filesystem::path output_for(const SignCommandOptions& o, const std::string& file) {
  if (!o.output.empty()) return o.output;
  return file + signing::suffix_for(form_of(o));
}

// A file of any size is read once, in chunks; a cleartext copy streams into the new file as
// it is read, so memory stays bounded either way.
void sign_one(const std::vector<signing::DocumentSigner*>& keys, signing::Form form, const openpgp::SignOptions& options,
              const std::string& file, const std::filesystem::path& out) {
  std::uint64_t size = 0;
  UniqueFd fd = open_for_reading(file, &size);
  write_file_atomically(out, [&](FileWriter& w) {
    signing::Job job(form, options, w);
    job.read({fd.get(), file, signing::kUnlimited, size});
    job.sign(keys);
  });
}

int run_sign(const SignCommandOptions& o) {
  if (o.clearsign && o.binary)
    throw Error(Errc::usage, "--clearsign and --binary exclude each other: a cleartext signature is always armored");
  if (!o.output.empty() && o.files.size() != 1)
    throw Error(Errc::usage, "--output needs exactly one FILE; without it each FILE gets FILE.asc, .sig or .signed");
  // Check every input before asking for the PIN, so a typo costs no login.
  for (const std::string& f : o.files) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(f, ec))
      throw Error(std::filesystem::exists(f, ec) ? Errc::usage : Errc::missing_file,
                  f + " is not a readable regular file: nothing was signed");
  }
  Config config = load_config(o.config);
  // No --key: [catalogs] key (one signature per listed key), else the only key.
  SigningSession session(config, config.signing_keys(o.keys, config.catalogs.keys), o.pin_fd);
  std::vector<signing::DocumentSigner*> keys = session.signers();
  openpgp::SignOptions options;
  // The longest of the keys' own hashes (SHA-384 when one is P-384), unless one is asked for.
  options.hash = o.hash.empty() ? signing::hash_for(keys) : *hash_from_option(o.hash);
  for (const std::string& f : o.files) {
    std::filesystem::path out = output_for(o, f);
    sign_one(keys, form_of(o), options, f, out);
    std::printf("signed %s -> %s\n", f.c_str(), out.c_str());
  }
  return 0;
}

}  // namespace

void register_sign(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<SignCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sign",
      "Sign files on the token without the daemon (emergency re-signing). Writes FILE.asc (armored detached) by "
      "default, FILE.sig with --binary, FILE.signed with --clearsign. One PIN entry signs all FILEs.");
  cmd->add_option("--config", o->config, "configuration file")->capture_default_str();
  cmd->add_option("--key", o->keys,
                  "key name in the config; repeat it (--key old --key new) for one signature per key; default: "
                  "[catalogs] key, else the only key")
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
  cmd->add_flag("--clearsign", o->clearsign, "write a cleartext-signed copy (what pkgutil needs for a catalog)");
  cmd->add_flag("--binary", o->binary, "write a binary detached signature instead of an armored one");
  cmd->add_option("--hash", o->hash,
                  "hash algorithm (SHA-1 is never used); default: sha256, or sha384 for a P-384 key")
      ->check(CLI::IsMember({"sha256", "sha384", "sha512"}));
  cmd->add_option("--output,-o", o->output, "output file (only with a single FILE)");
  cmd->add_option("--pin-fd", o->pin_fd, "read the user PIN from this file descriptor instead of the terminal");
  cmd->add_option("FILE", o->files, "files to sign")->required();
  cmd->callback([o, &ctx] { ctx.exit_code = run_sign(*o); });
}

}  // namespace catsign::cli
