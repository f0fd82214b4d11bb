// SPDX-License-Identifier: Apache-2.0
// catsign lock: end the unlock window now (also run by udev when the token is pulled).
#include <chrono>
#include <cstdio>
#include <thread>

#include "catsign/cli/command.hpp"
#include "catsign/config.hpp"
#include "catsign/daemon/client.hpp"

namespace catsign::cli {

namespace {

struct LockOptions {
  std::string config = kDefaultConfigPath;
  std::string reason;
};

// A lock must get through: udev runs this once when the token is pulled, and nobody retries
// it. A full admin socket (BUSY) or a daemon that can't be reached this very moment is tried
// again, briefly, backing off; locking twice is harmless.
constexpr auto kRetryFor = std::chrono::seconds(5);

int run_lock(const LockOptions& o) {
  Config config = load_config(o.config);
  daemon::Request r;
  r.kind = daemon::Request::Kind::lock;
  r.lock_reason = o.reason;
  const auto give_up = std::chrono::steady_clock::now() + kRetryFor;
  auto pause = std::chrono::milliseconds(50);
  for (;;) {
    try {
      daemon::Client client(config.daemon.admin_socket, std::chrono::seconds(10));
      std::printf("%s", client.call(daemon::format_request(r)).c_str());
      return 0;
    } catch (const Error& e) {
      bool again = e.code() == Errc::busy || e.code() == Errc::unreachable;
      if (!again || std::chrono::steady_clock::now() + pause > give_up) throw;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::milliseconds>(pause * 2, std::chrono::milliseconds(1000));
  }
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
