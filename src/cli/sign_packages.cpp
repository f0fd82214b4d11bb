// SPDX-License-Identifier: Apache-2.0
// catsign sign-packages: package signatures with the package key, one login for many packages
// (docs/DESIGN.md "Contract"). Each FILE gets FILE.asc beside it: an armored detached SHA-256 signature,
// written atomically. Every FILE is checked before the PIN is asked for (present, a regular
// file, a configured [packages] suffix), so a typo costs no login. Each package is read once,
// in chunks, so memory stays bounded whatever the package size.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "catsign/cli/command.hpp"
#include "catsign/cli/progress.hpp"
#include "catsign/cli/signing_session.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/public_key.hpp"
#include "catsign/signing/pipeline.hpp"
#include "catsign/util/file.hpp"

namespace catsign::cli {

namespace {

struct SignPackagesOptions {
  std::string config = kDefaultConfigPath;
  std::vector<std::string> keys;
  std::optional<int> pin_fd;
  std::vector<std::string> files;
};

bool has_suffix(const std::string& name, const std::string& suffix) {
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Why `file` can't be signed, or "" when it can.
std::string refusal(const Config& config, const std::string& file) {
  std::error_code ec;
  std::filesystem::file_status st = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(st)) return file + " does not exist";
  if (!std::filesystem::is_regular_file(st)) return file + " is not a regular file";
  const std::string name = std::filesystem::path(file).filename().string();
  for (const std::string& suffix : config.packages.suffixes)
    if (has_suffix(name, suffix)) return "";
  return file + " does not end in a package suffix (" + joined(config.packages.suffixes) + ", [packages] suffixes in " +
         config.path.string() + ")";
}

int run_sign_packages(const SignPackagesOptions& o) {
  Config config = load_config(o.config);
  // No --key: [packages] key (one signature per listed key), else the only key.
  const std::vector<const KeyConfig*> key_configs = config.signing_keys(o.keys, config.packages.keys);

  // Every input is checked before the PIN is asked for.
  std::vector<std::string> refused;
  for (const std::string& f : o.files) {
    std::string why = refusal(config, f);
    if (!why.empty()) refused.push_back(std::move(why));
  }
  if (!refused.empty()) {
    std::string more = refused.size() > 1 ? " (and " + std::to_string(refused.size() - 1) + " more refused)" : "";
    throw Error(Errc::usage, refused.front() + more + ": nothing was signed");
  }

  SigningSession session(config, key_configs, o.pin_fd);
  const std::vector<signing::DocumentSigner*> signers = session.signers();
  openpgp::SignOptions options;  // the keys' hash, now, no notations
  options.hash = signing::hash_for(signers);
  TerminalProgress progress;
  const std::size_t total = o.files.size();
  std::size_t done = 0;
  for (const std::string& f : o.files) {
    try {
      std::uint64_t size = 0;
      UniqueFd fd = open_for_reading(f, &size);
      const signing::Form form = signing::Form::detached_armored;
      write_file_atomically(f + signing::suffix_for(form), [&](FileWriter& w) {
        signing::Job job(form, options, w);
        job.read({fd.get(), f, signing::kUnlimited, size});
        job.sign(signers);
      });
    } catch (const Error& e) {
      progress.clear();
      throw Error(e.code(), f + ": " + e.what() + " (" + std::to_string(done) + " of " + std::to_string(total) +
                                " packages were signed before it; the rest were not)");
    }
    ++done;
    progress.show("signed", done, total);
  }
  progress.clear();
  std::printf("signed %zu package%s with key%s %s\n", done, done == 1 ? "" : "s", signers.size() == 1 ? "" : "s",
              session.describe_keys().c_str());
  return 0;
}

}  // namespace

void register_sign_packages(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<SignPackagesOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sign-packages",
      "Sign packages with the package key: FILE.asc (armored detached, SHA-256) beside each FILE, written "
      "atomically. One PIN entry signs all FILEs; every FILE is checked (present, regular, a [packages] suffix) "
      "before the PIN is asked for.");
  cmd->add_option("--config", o->config, "configuration file")->capture_default_str();
  cmd->add_option("--key", o->keys,
                  "key name in the config; repeat it for one signature per key; default: [packages] key, else the "
                  "only key, or the first [catalogs] key")
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
  cmd->add_option("--pin-fd", o->pin_fd, "read the user PIN from this file descriptor instead of the terminal");
  cmd->add_option("FILE", o->files, "packages to sign")->required();
  cmd->callback([o, &ctx] { ctx.exit_code = run_sign_packages(*o); });
}

}  // namespace catsign::cli
