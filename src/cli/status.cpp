// catsign status: locked or unlocked, time left, why it locked, the key, signatures served.
#include <nlohmann/json.hpp>

#include <cstdio>

#include "catsign/cli/command.hpp"
#include "catsign/config.hpp"
#include "catsign/daemon/client.hpp"
#include "catsign/util/duration.hpp"

namespace catsign::cli {

namespace {

struct StatusOptions {
  std::string config = kDefaultConfigPath;
  bool json = false;
};

int run_status(const StatusOptions& o) {
  Config config = load_config(o.config);
  daemon::Client client(config.daemon.admin_socket, std::chrono::seconds(10));
  std::string reply = client.call("STATUS\n");
  if (o.json) {
    std::printf("%s", reply.c_str());
    return 0;
  }
  nlohmann::json s = nlohmann::json::parse(reply, nullptr, false);
  if (s.is_discarded() || !s.is_object()) throw Error(Errc::malformed, "catsignd sent a status this client cannot read");
  bool unlocked = s.value("state", "") == "unlocked";
  if (unlocked) {
    std::printf("state:       unlocked, %s left\n",
                format_duration(std::chrono::seconds(s.value("expires_in_s", 0LL))).c_str());
  } else {
    std::printf("state:       locked (%s): a person must run catsign unlock\n", s.value("locked_reason", "").c_str());
  }
  std::printf("key:         %s\n", s.value("key_fingerprint", "").c_str());
  std::printf("token:       %s\n", s.value("token_present", false) ? "present, logged in" : "not open");
  std::printf("signatures:  %llu since start\n", s.value("signatures", 0ULL));
  std::string last = s.value("last_error", "");
  std::printf("last error:  %s\n", last.empty() ? "none" : last.c_str());
  return 0;
}

}  // namespace

void register_status(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand("status", "Show whether catsignd is unlocked, for how long, and what it has done");
  cmd->add_option("--config", o->config, "configuration file (names the admin socket)")->capture_default_str();
  cmd->add_flag("--json", o->json, "print the daemon's status object as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = run_status(*o); });
}

}  // namespace catsign::cli
