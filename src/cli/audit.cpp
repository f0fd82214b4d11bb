// SPDX-License-Identifier: Apache-2.0
// catsign audit verify FILE...: checks the hash chain of a catsignd audit log, line by line,
// and across a rotated series: each file after the first must begin with the "continue"
// record that carries the hash of the last line of the file before it.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catsign/cli/command.hpp"
#include "catsign/daemon/audit_log.hpp"

namespace catsign::cli {

namespace {

int run_audit_verify(const std::vector<std::string>& files) {
  const bool series = files.size() > 1;
  std::optional<std::string> link;  // the hash the next file must continue from
  std::uint64_t records = 0;
  std::string first_continues;
  std::vector<std::string> notes;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string& file = files[i];
    daemon::AuditVerifyResult r = daemon::verify_audit_log(file, i == 0 ? std::nullopt : link);
    if (!r.ok) {
      std::string where = series ? " " + file : "";
      // verify_audit_log speaks of "the file before it": name it.
      std::string reason = r.reason;
      const std::string before = "the file before it";
      if (i > 0 && r.first_bad_line == 1 && reason.find(before) != std::string::npos)
        reason.replace(reason.find(before), before.size(), files[i - 1]);
      std::fprintf(stderr, "audit log%s broken at line %llu: %s\n", where.c_str(),
                   static_cast<unsigned long long>(r.first_bad_line), reason.c_str());
      return 1;
    }
    if (i == 0) first_continues = r.continues;
    // The hash is what binds the files; a name that differs is worth saying, not failing.
    if (i > 0 && r.lines > 0 && r.continues != std::filesystem::path(files[i - 1]).filename().string() &&
        !r.continues.empty())
      notes.push_back(file + " names its previous file " + r.continues + ", given as " + files[i - 1]);
    if (!r.last_hash.empty()) link = r.last_hash;
    records += r.lines;
  }
  std::printf("audit log OK: %llu records", static_cast<unsigned long long>(records));
  if (series) std::printf(" in %zu files", files.size());
  if (!first_continues.empty())
    std::printf("; %s continues an earlier file, %s, which was not given: give it first to check the link",
                files.front().c_str(), first_continues.c_str());
  std::printf("\n");
  for (const std::string& n : notes) std::printf("note: %s\n", n.c_str());
  return 0;
}

}  // namespace

void register_audit(CLI::App& app, Context& ctx) {
  CLI::App* audit = app.add_subcommand("audit", "Work with the catsignd audit log.");
  audit->require_subcommand(1);
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* verify = audit->add_subcommand(
      "verify",
      "Check that every line of an audit log is a record chained to the one before it, and that each of a rotated "
      "series of files (oldest first) continues the one before it. Exit 0 when the whole chain holds; otherwise "
      "exit 1 naming the first broken line.");
  verify
      ->add_option("FILE", *files,
                   "the audit log, or a rotated series oldest first, e.g. /var/lib/catsign/audit.jsonl-20261201 "
                   "/var/lib/catsign/audit.jsonl")
      ->required();
  verify->callback([files, &ctx] { ctx.exit_code = run_audit_verify(*files); });
}

}  // namespace catsign::cli
