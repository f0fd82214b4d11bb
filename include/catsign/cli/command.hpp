// SPDX-License-Identifier: Apache-2.0
// How subcommands plug into the catsign command line: each src/cli/<name>.cpp registers one
// CLI11 subcommand whose callback does the work and sets the exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace catsign::cli {

struct Context {
  int exit_code = 0;
};

void register_keygen(CLI::App& app, Context& ctx);
void register_sign(CLI::App& app, Context& ctx);
void register_verify(CLI::App& app, Context& ctx);
void register_unlock(CLI::App& app, Context& ctx);
void register_lock(CLI::App& app, Context& ctx);
void register_status(CLI::App& app, Context& ctx);
void register_request(CLI::App& app, Context& ctx);
void register_audit(CLI::App& app, Context& ctx);
void register_check_catalog(CLI::App& app, Context& ctx);
void register_sign_packages(CLI::App& app, Context& ctx);
void register_resign(CLI::App& app, Context& ctx);
void register_extend(CLI::App& app, Context& ctx);
void register_export(CLI::App& app, Context& ctx);
void register_keys(CLI::App& app, Context& ctx);

}  // namespace catsign::cli
