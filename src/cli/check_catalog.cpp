// SPDX-License-Identifier: Apache-2.0
// catsign check-catalog: the package gate from the command line (docs/DESIGN.md "Contract"). Reads
// <root>/<tuple>/catalog and checks every package it lists beneath the root; exit 0 only when
// all pass, 5 (refused) when some fail.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "catsign/catalog/beneath.hpp"
#include "catsign/catalog/opencsw_catalog.hpp"
#include "catsign/catalog/package_gate.hpp"
#include "catsign/catalog/tuple.hpp"
#include "catsign/cli/command.hpp"
#include "catsign/cli/progress.hpp"
#include "catsign/error.hpp"
#include "catsign/util/file.hpp"

namespace catsign::cli {

namespace {

struct CheckOptions {
  std::string root;
  std::string tuple;
  std::string keyring;
  bool json = false;
  unsigned threads = 0;
};

constexpr std::uint64_t kMaxCatalog = 256ull << 20;
constexpr std::uint64_t kMaxKeyring = 16ull << 20;

// The tuple's syntax only (there is no config here): parse_tuple against a config that
// allows exactly the parts given, so its syntax rules (checked first) are the only test.
catalog::Tuple syntax_checked_tuple(const std::string& text) {
  CatalogsConfig any;
  std::size_t a = text.find('/');
  std::size_t b = a == std::string::npos ? a : text.find('/', a + 1);
  if (b != std::string::npos) {
    any.releases = {text.substr(0, a)};
    any.arches = {text.substr(a + 1, b - a - 1)};
    any.osrels = {text.substr(b + 1)};
  }
  try {
    return catalog::parse_tuple(text, any);
  } catch (const Error& e) {
    throw Error(Errc::usage, e.what());
  }
}


int run_check_catalog(const CheckOptions& o) {
  const catalog::Tuple tuple = syntax_checked_tuple(o.tuple);
  const catalog::Root root(o.root, "catalog");
  const catalog::Root packages_root(o.root, "package");  // the same tree, named for messages

  std::vector<openpgp::Certificate> keyring;
  try {
    keyring = catalog::read_package_keyring(read_file(o.keyring, kMaxKeyring));
  } catch (const Error& e) {
    if (e.code() == Errc::io) throw;
    throw Error(e.code(), "keyring " + o.keyring + ": " + e.what());
  }

  catalog::OpenCswCatalog parsed;
  {
    catalog::OpenedFile f = catalog::open_beneath(root, tuple.catalog_path(), kMaxCatalog);
    const std::string text = read_fd_text(f.fd.get(), tuple.catalog_path(), kMaxCatalog);
    try {
      parsed = catalog::parse_opencsw_catalog(text);
    } catch (const Error& e) {
      throw Error(e.code(), o.root + "/" + tuple.catalog_path() + ": " + e.what());
    }
  }

  catalog::GateOptions options;
  options.threads = o.threads;
  TerminalProgress progress;
  options.progress = [&](std::size_t done, std::size_t total) { progress.show("checked", done, total); };
  const catalog::GateReport report = catalog::check_packages(parsed, packages_root, tuple.str(), keyring, options);
  progress.clear();

  if (o.json) {
    nlohmann::json packages = nlohmann::json::array();
    for (const auto& p : report.packages) {
      packages.push_back({{"file", p.file},
                          {"line", p.line},
                          {"status", catalog::package_status_name(p.status)},
                          {"detail", p.detail}});
    }
    nlohmann::json out = {{"ok", report.ok()}, {"catalog", tuple.str()}, {"packages", std::move(packages)}};
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    for (const auto& p : report.packages) {
      if (p.status == catalog::PackageStatus::ok) continue;
      std::printf("%s: %s: %s (catalog line %zu)\n", p.file.c_str(), catalog::package_status_name(p.status),
                  p.detail.c_str(), p.line);
    }
    std::printf("%s: %s\n", tuple.str().c_str(), report.summary().c_str());
  }
  std::fflush(stdout);
  if (report.ok()) return 0;
  std::fprintf(stderr,
               "catsign: %s: %zu of %zu packages fail the gate; fix them (sign with catsign "
               "sign-packages, or correct the catalog) before the catalog is signed\n",
               tuple.str().c_str(), report.failures(), report.packages.size());
  return exit_code_for(Errc::refused);
}

}  // namespace

void register_check_catalog(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CheckOptions>();
  CLI::App* cmd = app.add_subcommand(
      "check-catalog",
      "Check that every package a catalog lists is present, has the catalog's size and md5, and has a FILE.asc "
      "by a key in the keyring. Exit 0 when all pass, 5 when some fail.");
  cmd->add_option("--root", o->root, "the mirror root holding <release>/<arch>/<osrel>/catalog")->required();
  cmd->add_option("TUPLE", o->tuple, "the catalog, release/arch/osrel, e.g. unstable/sparc/5.10")->required();
  cmd->add_option("--keyring", o->keyring, "the package keys' certificates (armored or binary)")->required();
  cmd->add_flag("--json", o->json, "print the report as JSON");
  cmd->add_option("--threads", o->threads, "worker threads (default: one per core)");
  cmd->callback([o, &ctx] { ctx.exit_code = run_check_catalog(*o); });
}

}  // namespace catsign::cli
