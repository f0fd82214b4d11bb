// SPDX-License-Identifier: Apache-2.0
#include "catsign/cli/main.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "catsign/cli/command.hpp"
#include "catsign/error.hpp"
#include "catsign/version.hpp"

namespace catsign::cli {

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// CLI11 answers a mistyped command with "A subcommand is required", which names neither the
// word it did not know nor the ones it would have. Walks the words as CLI11 will: while the
// command at hand needs a subcommand, the first word that is not an option must be one.
// Returns the message for the first word that is not, or "" when all is well.
std::string unknown_command(CLI::App& app, int argc, char** argv) {
  CLI::App* at = &app;
  std::string path = "catsign";
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--") return {};
    if (!word.empty() && word[0] == '-') continue;
    if (at->get_require_subcommand_min() == 0) return {};
    std::vector<CLI::App*> subs = at->get_subcommands([](CLI::App*) { return true; });
    std::string names, close;
    for (CLI::App* sub : subs) {
      if (sub->check_name(word)) {
        at = sub;
        path += " " + sub->get_name();
        word.clear();
        break;
      }
      names += (names.empty() ? "" : ", ") + sub->get_name();
      if (close.empty() && edit_distance(word, sub->get_name()) <= 2) close = sub->get_name();
    }
    if (word.empty()) continue;
    return "unknown command '" + std::string(argv[i]) + "'" +
           (close.empty() ? std::string() : ": did you mean '" + path + " " + close + "'?") + " (" + path +
           " commands: " + names + "; see " + path + " --help)";
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("catsign: OpenPGP signatures for package catalogs, made with a key that never leaves its PKCS#11 token");
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "show help for every command");
  app.set_version_flag("--version", std::string("catsign ") + kVersionLine, "print the version and exit");
  Context ctx;
  register_keygen(app, ctx);
  register_sign(app, ctx);
  register_verify(app, ctx);
  register_unlock(app, ctx);
  register_lock(app, ctx);
  register_status(app, ctx);
  register_request(app, ctx);
  register_audit(app, ctx);
  register_check_catalog(app, ctx);
  register_sign_packages(app, ctx);
  register_resign(app, ctx);
  register_extend(app, ctx);
  register_export(app, ctx);
  register_keys(app, ctx);
  if (std::string unknown = unknown_command(app, argc, argv); !unknown.empty()) {
    std::fprintf(stderr, "catsign: %s\n", unknown.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "catsign: %s (see catsign --help)\n", e.what());
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "catsign: %s\n", e.what());
    return exit_code_for(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "catsign: unexpected failure: %s\n", e.what());
    return 1;
  }
  return ctx.exit_code;
}

}  // namespace catsign::cli
