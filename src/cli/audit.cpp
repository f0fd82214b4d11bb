// catsign audit verify LOGFILE: checks the hash chain of a catsignd audit log, line by line.
#include <cstdio>
#include <memory>
#include <string>

#include "catsign/cli/command.hpp"
#include "catsign/daemon/audit_log.hpp"

namespace catsign::cli {

namespace {

int run_audit_verify(const std::string& logfile) {
  daemon::AuditVerifyResult r = daemon::verify_audit_log(logfile);
  if (!r.ok) {
    std::fprintf(stderr, "audit log broken at line %llu: %s\n", static_cast<unsigned long long>(r.first_bad_line),
                 r.reason.c_str());
    return 1;
  }
  std::printf("audit log OK: %llu records\n", static_cast<unsigned long long>(r.lines));
  return 0;
}

}  // namespace

void register_audit(CLI::App& app, Context& ctx) {
  CLI::App* audit = app.add_subcommand("audit", "Work with the catsignd audit log.");
  audit->require_subcommand(1);
  auto logfile = std::make_shared<std::string>();
  CLI::App* verify = audit->add_subcommand(
      "verify",
      "Check that every line of an audit log is a record chained to the one before it. Exit 0 when the whole "
      "chain holds; otherwise exit 1 naming the first broken line.");
  verify->add_option("LOGFILE", *logfile, "the audit log, e.g. /var/lib/catsign/audit.jsonl")->required();
  verify->callback([logfile, &ctx] { ctx.exit_code = run_audit_verify(*logfile); });
}

}  // namespace catsign::cli
