// SPDX-License-Identifier: Apache-2.0
// catsign unlock: a person gives the daemon the PIN for one unlock window.
#include <cstdio>

#include "catsign/cli/command.hpp"
#include "catsign/cli/pin_prompt.hpp"
#include "catsign/config.hpp"
#include "catsign/daemon/client.hpp"
#include "catsign/token/pin.hpp"
#include "catsign/util/duration.hpp"

namespace catsign::cli {

namespace {

struct UnlockOptions {
  std::string config = kDefaultConfigPath;
  std::optional<int> pin_fd;
  bool pin_pad = false;
};

int run_unlock(const UnlockOptions& o) {
  token::disable_core_dumps();
  Config config = load_config(o.config);
  // Reachable before anyone types a PIN; the UNLOCK goes on a connection of its own, opened
  // after the PIN is in: the daemon cuts off a connection that idles past request_timeout,
  // and a person at a pinentry may take longer than that.
  daemon::Client(config.daemon.admin_socket, std::chrono::seconds(10)).call("PING\n");
  SecureString pin;
  if (o.pin_pad) {
    std::fprintf(stderr, "catsign: enter the PIN on the token's PIN pad\n");
  } else {
    // The first catalog key names the token the PIN is for (every key lives on that token).
    const KeyConfig& key = *config.signing_keys({}, config.catalogs.keys).front();
    pin = ask_pin(config,
                  pin_request_for(key, "to unlock catsignd for " + format_duration(config.daemon.unlock_window)),
                  o.pin_fd);
  }
  daemon::Client client(config.daemon.admin_socket, std::chrono::seconds(120));
  std::string reply = client.unlock(pin);
  pin.clear();
  std::printf("%s", reply.c_str());
  return 0;
}

}  // namespace

void register_unlock(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<UnlockOptions>();
  CLI::App* cmd = app.add_subcommand("unlock", "Unlock catsignd: log it in to the token for the configured unlock window");
  cmd->add_option("--config", o->config, "configuration file (names the admin socket)")->capture_default_str();
  cmd->add_option("--pin-fd", o->pin_fd, "read the user PIN from this file descriptor instead of the terminal");
  cmd->add_flag("--pin-pad", o->pin_pad, "the token has a PIN pad: send no PIN, type it on the token");
  cmd->callback([o, &ctx] { ctx.exit_code = run_unlock(*o); });
}

}  // namespace catsign::cli
