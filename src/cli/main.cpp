#include "catsign/cli/main.hpp"

#include <cstdio>

#include "catsign/cli/command.hpp"
#include "catsign/error.hpp"

namespace catsign::cli {

int main(int argc, char** argv) {
  CLI::App app("catsign: OpenPGP signatures for package catalogs, made with a key that never leaves its PKCS#11 token");
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "show help for every command");
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
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
