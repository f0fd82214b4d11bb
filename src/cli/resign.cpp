// SPDX-License-Identifier: Apache-2.0
// catsign resign: emergency re-signing of a catalog tree with the one-shot path, no daemon.
// Every catalog named (or, with --all, every configured tuple whose catalog exists beneath
// [catalogs] root) gets a fresh signature in [catalogs] resign_form, bound to
// its tuple with the catalog@catsign notation, exactly as catsignd binds its signatures.
//
// What it does, in order, so that everything that can be refused is refused before the PIN:
//  1. Tuples are parsed against the config (a bad one is a usage error, nothing is signed).
//  2. Each catalog is opened beneath the root (openat2 RESOLVE_BENEATH) and read once, capped
//     at [catalogs] max_size. Tuples that reach the same file (testing -> dublin) are signed
//     once: the signature carries a notation for each of them, the file's own tuple (the one
//     its real path names) last, which is the one `catsign verify --expect-catalog` reads.
//  3. The package gate ([catalogs] require_package_signatures, as in the daemon) runs on the
//     text read in step 2, unless --skip-package-check. A catalog that fails is skipped.
//  4. One PIN entry, one login; each remaining catalog is signed and written atomically at its
//     real path (symlinks in the tree stay symlinks), with the catalog's file mode, and only if
//     the file is still the one read in step 2.
//
// Forms:
//  "cleartext": <tuple>/catalog is replaced by a cleartext-signed catalog. A catalog that is
//               already cleartext-signed is re-signed from its text (parse_cleartext): the
//               text, not the old framing, is what is hashed, so it is never wrapped twice.
//  "detached":  <tuple>/catalog.asc, an armored detached signature of the plain catalog. A
//               catalog that is cleartext-signed is NOT unwrapped (deployed pkgutil clients
//               need that form, and an emergency tool should not change what they download):
//               it is skipped, with a message saying to unwrap it or use resign_form =
//               "cleartext".
//
// Exit: 0 when every catalog was re-signed; 1 when any failed for a reason other than the
// gate (missing, unreadable, malformed, cleartext in detached form, token); else 5 when any
// was refused by the gate; 2 for usage and config errors (nothing is signed).
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "catsign/catalog/beneath.hpp"
#include "catsign/catalog/opencsw_catalog.hpp"
#include "catsign/catalog/package_gate.hpp"
#include "catsign/catalog/tuple.hpp"
#include "catsign/cli/command.hpp"
#include "catsign/cli/progress.hpp"
#include "catsign/cli/resign_repository.hpp"
#include "catsign/cli/signing_session.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/cleartext.hpp"
#include "catsign/openpgp/public_key.hpp"
#include "catsign/signing/pipeline.hpp"
#include "catsign/util/file.hpp"

namespace catsign::cli {

namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMaxKeyring = 16ull << 20;

struct ResignOptions {
  std::string config = kDefaultConfigPath;
  bool all = false;
  bool skip_package_check = false;
  std::optional<int> pin_fd;
  std::vector<std::string> tuples;
  std::string repository;  // --repository NAME: a [repositories.NAME] section instead of catalogs
};

enum class Outcome { pending, resigned, gate_refused, failed };

// One catalog file, reached by one or more tuples.
struct Target {
  std::vector<catalog::Tuple> tuples;   // in the order asked for
  std::optional<catalog::Tuple> own;    // the tuple its real path names, when configured
  fs::path real;                        // canonical path of the catalog file
  struct stat st {};                    // as opened
  std::string text;                     // the bytes read, once
  bool cleartext = false;
  Outcome outcome = Outcome::pending;
  std::string why;  // for skipped targets
};

struct Failure {  // a tuple that never became a target
  std::string tuple;
  std::string why;
};

std::string tuple_list(const Target& t) {
  std::string out;
  for (const catalog::Tuple& x : t.tuples) out += (out.empty() ? "" : ", ") + x.str();
  return out;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool unchanged(const struct stat& a, const struct stat& b) {
  return same_file(a, b) && a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

std::vector<catalog::Tuple> chosen_tuples(const ResignOptions& o, const Config& config) {
  std::vector<catalog::Tuple> out;
  if (o.all && !o.tuples.empty())
    throw Error(Errc::usage, "give either --all or TUPLEs, not both");
  if (!o.all && o.tuples.empty())
    throw Error(Errc::usage, "name the catalogs to re-sign (release/arch/osrel ...) or give --all for every "
                             "configured catalog present under " + config.catalogs.root.string());
  if (o.all) {
    for (const std::string& r : config.catalogs.releases)
      for (const std::string& a : config.catalogs.arches)
        for (const std::string& v : config.catalogs.osrels) {
          catalog::Tuple t{r, a, v};
          std::error_code ec;
          // Present at all (a dangling or escaping link counts, and is reported when opened).
          if (fs::exists(fs::symlink_status(config.catalogs.root / t.catalog_path(), ec))) out.push_back(t);
        }
    if (out.empty())
      throw Error(Errc::usage, "no configured catalog exists under " + config.catalogs.root.string() +
                                   " (<release>/<arch>/<osrel>/catalog): nothing to re-sign");
    return out;
  }
  for (const std::string& text : o.tuples) {
    try {
      catalog::Tuple t = catalog::parse_tuple(text, config.catalogs);
      bool dup = false;
      for (const catalog::Tuple& x : out) dup = dup || x == t;
      if (!dup) out.push_back(t);
    } catch (const Error& e) {
      throw Error(Errc::usage, std::string(e.what()) + " (in " + config.path.string() + "): nothing was re-signed");
    }
  }
  return out;
}

// Opens and reads each tuple's catalog; tuples that reach the same file share a Target.
std::vector<Target> collect(const Config& config, const catalog::Root& root, const std::vector<catalog::Tuple>& tuples,
                            std::vector<Failure>& failures) {
  std::vector<Target> targets;
  const fs::path root_real = fs::canonical(config.catalogs.root);
  for (const catalog::Tuple& t : tuples) {
    try {
      catalog::OpenedFile f = catalog::open_beneath(root, t.catalog_path(), config.catalogs.max_size);
      struct stat st {};
      if (::fstat(f.fd.get(), &st) != 0) throw Error(Errc::io, t.catalog_path() + ": fstat failed");
      bool joined = false;
      for (Target& x : targets) {
        if (same_file(x.st, st)) {
          x.tuples.push_back(t);
          joined = true;
          break;
        }
      }
      if (joined) continue;
      Target target;
      target.tuples.push_back(t);
      target.st = st;
      target.real = fs::canonical(root.path() / t.catalog_path());
      struct stat real_st {};
      const fs::path rel = target.real.lexically_relative(root_real);
      if (rel.empty() || *rel.begin() == ".." || ::stat(target.real.c_str(), &real_st) != 0 || !same_file(st, real_st))
        throw Error(Errc::refused, t.catalog_path() + " changed while it was opened; run again");
      try {
        target.own = catalog::parse_tuple(rel.parent_path().string(), config.catalogs);
      } catch (const Error&) {
        // The real folder is not a configured tuple: the tuples asked for are all it has.
      }
      target.text = read_fd_text(f.fd.get(), t.catalog_path() + " ([catalogs] max_size)", config.catalogs.max_size);
      target.cleartext = target.text.starts_with(openpgp::kCleartextBegin);
      targets.push_back(std::move(target));
    } catch (const Error& e) {
      failures.push_back({t.str(), e.what()});
    } catch (const fs::filesystem_error& e) {
      failures.push_back({t.str(), e.what()});
    }
  }
  return targets;
}

// The notations a target's signature carries: every tuple that reaches it, its own tuple last.
std::vector<openpgp::Notation> notations_for(const Target& t) {
  std::vector<openpgp::Notation> out;
  for (const catalog::Tuple& x : t.tuples)
    if (!t.own || !(x == *t.own)) out.push_back({openpgp::kCatalogNotation, x.str(), true});
  if (t.own) out.push_back({openpgp::kCatalogNotation, t.own->str(), true});
  return out;
}

void check_form(Target& t, const Config& config) {
  if (config.catalogs.resign_form == "detached" && t.cleartext) {
    t.outcome = Outcome::failed;
    t.why = "the catalog is cleartext-signed, and resign_form = \"detached\" signs a plain catalog: unwrap it "
            "first (or set resign_form = \"cleartext\" to re-sign its text)";
    return;
  }
  if (t.cleartext) {
    try {
      (void)openpgp::parse_cleartext(t.text);
    } catch (const Error& e) {
      t.outcome = Outcome::failed;
      t.why = std::string("the catalog looks cleartext-signed but its framing does not parse: ") + e.what();
    }
  }
}

void run_gate(Target& t, const Config& config, const catalog::Root& root,
              const std::vector<openpgp::Certificate>& keyring, std::map<fs::path, std::string>& by_dir,
              TerminalProgress& progress) {
  catalog::OpenCswCatalog parsed;
  try {
    parsed = catalog::parse_opencsw_catalog(t.text);
  } catch (const Error& e) {
    t.outcome = Outcome::gate_refused;
    t.why = std::string("package gate: the catalog does not parse, so its packages can't be checked: ") + e.what();
    return;
  }
  for (const catalog::Tuple& tuple : t.tuples) {
    // Tuples through a release link (testing -> dublin) check the same folder: once is enough.
    std::error_code ec;
    fs::path dir = fs::canonical(config.catalogs.root / tuple.str(), ec);
    if (ec) dir = config.catalogs.root / tuple.str();
    auto cached = by_dir.find(dir);
    std::string failure;
    if (cached != by_dir.end()) {
      failure = cached->second;
    } else {
      catalog::GateOptions options;
      const std::string label = "checking " + tuple.str();
      options.progress = [&](std::size_t done, std::size_t total) { progress.show(label, done, total); };
      catalog::GateReport report = catalog::check_packages(parsed, root, tuple.str(), keyring, options);
      progress.clear();
      if (!report.ok()) {
        failure = report.summary();
        for (const catalog::PackageResult& p : report.packages)
          if (p.status != catalog::PackageStatus::ok)
            std::printf("%s: %s: %s: %s (catalog line %zu)\n", tuple.str().c_str(), p.file.c_str(),
                         catalog::package_status_name(p.status), p.detail.c_str(), p.line);
      }
      by_dir.emplace(dir, failure);
    }
    if (!failure.empty()) {
      t.outcome = Outcome::gate_refused;
      t.why = "package gate (" + tuple.str() + "): " + failure;
      return;
    }
  }
}

void sign_target(Target& t, const Config& config, const std::vector<signing::DocumentSigner*>& keys) {
  struct stat now {};
  if (::stat(t.real.c_str(), &now) != 0 || !unchanged(t.st, now))
    throw Error(Errc::refused, t.real.string() + " changed since it was read (checked); run again");
  openpgp::SignOptions options;
  options.hash = signing::hash_for(keys);
  options.notations = notations_for(t);
  const mode_t mode = t.st.st_mode & 07777;
  const bool cleartext = config.catalogs.resign_form == "cleartext";
  const signing::Form form = cleartext ? signing::Form::cleartext : signing::Form::detached_armored;
  // The text inside an old framing, lines joined by LF; the final LF puts back the line ending
  // of the last line, so an empty last line survives and a second run changes nothing.
  const std::string text = cleartext && t.cleartext ? openpgp::parse_cleartext(t.text).text + "\n" : t.text;
  // A cleartext catalog replaces the catalog itself; a detached signature goes beside it.
  fs::path out = t.real;
  if (!cleartext) out += signing::suffix_for(form);
  write_file_atomically(
      out,
      [&](FileWriter& w) {
        signing::Job job(form, options, w);
        job.update(as_bytes(text));
        job.sign(keys);
      },
      mode);
}

int run_resign(const ResignOptions& o) {
  Config config = load_config(o.config);
  if (!o.repository.empty()) {
    if (o.all || !o.tuples.empty() || o.skip_package_check)
      throw Error(Errc::usage, "--repository signs every index of one repository: give it without --all, "
                               "--skip-package-check or TUPLEs");
    return resign_repository(config, o.repository, o.pin_fd);
  }
  const std::vector<catalog::Tuple> tuples = chosen_tuples(o, config);
  // Every [catalogs] key signs (old and new while a key is rotated), as in the daemon.
  const std::vector<const KeyConfig*> key_configs = config.signing_keys({}, config.catalogs.keys);
  const bool gate = config.catalogs.require_package_signatures && !o.skip_package_check;

  std::vector<openpgp::Certificate> keyring;
  if (gate) {
    try {
      keyring = catalog::read_package_keyring(read_file(config.catalogs.package_keyring, kMaxKeyring));
    } catch (const Error& e) {
      throw Error(Errc::usage, "[catalogs] package_keyring " + config.catalogs.package_keyring.string() + ": " +
                                   e.what() + " (the package gate needs it; nothing was re-signed)");
    }
  }

  const catalog::Root root(config.catalogs.root, "catalog");
  const catalog::Root packages_root(config.catalogs.root, "package");  // the same tree, named for messages
  std::vector<Failure> failures;
  std::vector<Target> targets = collect(config, root, tuples, failures);
  for (Target& t : targets) check_form(t, config);

  TerminalProgress progress;
  if (gate) {
    std::map<fs::path, std::string> by_dir;
    for (Target& t : targets)
      if (t.outcome == Outcome::pending) run_gate(t, config, packages_root, keyring, by_dir, progress);
  }

  std::size_t to_sign = 0;
  for (const Target& t : targets) to_sign += t.outcome == Outcome::pending;
  std::string fingerprint;
  if (to_sign > 0) {
    SigningSession session(config, key_configs, o.pin_fd);
    const std::vector<signing::DocumentSigner*> keys = session.signers();
    fingerprint = session.describe_keys();
    bool token_failed = false;
    for (Target& t : targets) {
      if (t.outcome != Outcome::pending) continue;
      if (token_failed) {
        t.outcome = Outcome::failed;
        t.why = "not attempted after the token failed";
        continue;
      }
      try {
        sign_target(t, config, keys);
        t.outcome = Outcome::resigned;
      } catch (const Error& e) {
        t.outcome = Outcome::failed;
        t.why = e.what();
        token_failed = e.code() == Errc::token;
      }
    }
  }

  // The summary: one line per catalog, then the counts.
  std::size_t resigned = 0, refused = 0, failed = failures.size();
  std::string first_problem;
  for (const Failure& f : failures) {
    std::printf("skipped %s: %s\n", f.tuple.c_str(), f.why.c_str());
    if (first_problem.empty()) first_problem = f.tuple + ": " + f.why;
  }
  const char* form = config.catalogs.resign_form == "cleartext" ? "cleartext catalog" : "detached catalog.asc";
  for (const Target& t : targets) {
    const std::string names = tuple_list(t);
    if (t.outcome == Outcome::resigned) {
      resigned += t.tuples.size();
      std::printf("re-signed %s (%s, %s%s)\n", names.c_str(), form, t.real.c_str(),
                  t.cleartext && config.catalogs.resign_form == "cleartext" ? ", re-signed from its signed text" : "");
    } else {
      (t.outcome == Outcome::gate_refused ? refused : failed) += t.tuples.size();
      std::printf("skipped %s: %s\n", names.c_str(), t.why.c_str());
      if (first_problem.empty()) first_problem = names + ": " + t.why;
    }
  }
  std::printf("%zu catalog%s re-signed, %zu refused by the package gate, %zu failed", resigned, resigned == 1 ? "" : "s",
              refused, failed);
  if (!fingerprint.empty()) std::printf("; key%s %s", key_configs.size() == 1 ? "" : "s", fingerprint.c_str());
  if (!gate)
    std::printf("; package gate %s", o.skip_package_check ? "skipped (--skip-package-check)"
                                                           : "off (require_package_signatures = false)");
  std::printf("\n");
  std::fflush(stdout);

  if (refused + failed == 0) return 0;
  std::fprintf(stderr, "catsign: %zu of %zu catalogs not re-signed (first: %s); see the summary above\n",
               refused + failed, refused + failed + resigned, first_problem.c_str());
  return failed > 0 ? 1 : exit_code_for(Errc::refused);
}

}  // namespace

void register_resign(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ResignOptions>();
  CLI::App* cmd = app.add_subcommand(
      "resign",
      "Emergency re-signing of catalogs on the token without the daemon, in [catalogs] resign_form: a "
      "cleartext-signed catalog (an already signed one is re-signed from its text) or catalog.asc beside it. "
      "The package gate applies when require_package_signatures is on. One PIN entry for all. Exit 0 when "
      "all were re-signed, 5 when the gate refused some, 1 on other failures.");
  cmd->add_option("--config", o->config, "configuration file")->capture_default_str();
  cmd->add_flag("--all", o->all, "every configured release/arch/osrel whose catalog exists under [catalogs] root");
  cmd->add_flag("--skip-package-check", o->skip_package_check,
                "sign even when packages fail the gate (an emergency override; say why in the release notes)");
  cmd->add_option("--pin-fd", o->pin_fd, "read the user PIN from this file descriptor instead of the terminal");
  cmd->add_option("--repository", o->repository,
                  "every index of [repositories.NAME] instead of catalogs: apt's InRelease and Release.gpg, rpm's "
                  "repomd.xml.asc, pacman's <repo>.db.sig");
  cmd->add_option("TUPLE", o->tuples, "catalogs to re-sign, release/arch/osrel");
  cmd->callback([o, &ctx] { ctx.exit_code = run_resign(*o); });
}

}  // namespace catsign::cli
