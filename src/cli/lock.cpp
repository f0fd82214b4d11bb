// catsign lock: end the unlock window now (also run by udev when the token is pulled).
#include <cstdio>

#include "catsign/cli/command.hpp"
#include "catsign/config.hpp"
#include "catsign/daemon/client.hpp"

namespace catsign::cli {

namespace {

struct LockOptions {
  std::string config = kDefaultConfigPath;
  std::string reason;
};

int run_lock(const LockOptions& o) {
  Config config = load_config(o.config);
  daemon::Client client(config.daemon.admin_socket, std::chrono::seconds(10));
  daemon::Request r;
  r.kind = daemon::Request::Kind::lock;
  r.lock_reason = o.reason;
  std::printf("%s", client.call(daemon::format_request(r)).c_str());
  return 0;
}

}  // namespace

void register_lock(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<LockOptions>();
  CLI::App* cmd = app.add_subcommand("lock", "Lock catsignd now: it forgets the PIN and signs nothing until unlocked");
  cmd->add_option("--config", o->config, "configuration file (names the admin socket)")->capture_default_str();
  cmd->add_option("--reason", o->reason, "why, for the log and status (e.g. token-removed)")
      ->check([](const std::string& s) {
        for (char c : s)
          if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            return std::string("the reason must be printable ASCII on one line");
        return s.size() > 200 ? std::string("the reason must be at most 200 characters") : std::string();
      });
  cmd->callback([o, &ctx] { ctx.exit_code = run_lock(*o); });
}

}  // namespace catsign::cli
