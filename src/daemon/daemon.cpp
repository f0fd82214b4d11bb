#include "catsign/daemon/daemon.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

#include "catsign/daemon/log.hpp"
#include "catsign/daemon/server.hpp"
#include "catsign/daemon/spool.hpp"
#include "catsign/token/pin.hpp"
#include "catsign/util/duration.hpp"

namespace catsign::daemon {

namespace {

Server* g_server = nullptr;

extern "C" void on_stop_signal(int) {
  if (g_server) g_server->stop();
}

// Runs the operator's expiry_command (mail or page the trusted person), without waiting. The
// daemon is threaded, so the child must not allocate between fork and exec (another thread may
// hold the allocator's lock): posix_spawn with an environment built beforehand.
void run_expiry_command(const std::string& command, const std::string& event, std::chrono::seconds left) {
  if (command.empty()) return;
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("CATSIGN_EVENT=") && !entry.starts_with("CATSIGN_EXPIRES_IN_S=")) env.emplace_back(entry);
  }
  env.push_back("CATSIGN_EVENT=" + event);
  env.push_back("CATSIGN_EXPIRES_IN_S=" + std::to_string(left.count()));
  std::thread([command, event, env = std::move(env)] {
    std::vector<char*> envp;
    for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(command.c_str()), nullptr};
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, envp.data());
    if (rc != 0) {
      spdlog::error("expiry_command could not be started: {}", std::strerror(rc));
      return;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      spdlog::warn("expiry_command for '{}' failed (status {})", event, status);
  }).detach();
}

// The unlock window's clock, run on the event thread once a second: expiry, the warning
// before it, and systemd's status line.
class WindowWatch {
 public:
  WindowWatch(const Config& config, SigningService& service, KeyHolder& key)
      : config_(config), service_(service), key_(key) {}

  void tick() {
    if (service_.expire_if_due()) run_expiry_command(config_.daemon.expiry_command, "expired", std::chrono::seconds(0));
    LockState s = key_.state();
    auto now = KeyHolder::Clock::now();
    std::string status;
    if (s.unlocked) {
      auto left = std::chrono::duration_cast<std::chrono::seconds>(s.expires - now);
      if (left <= config_.daemon.warn_before && warned_for_ != s.since) {
        warned_for_ = s.since;
        spdlog::warn("the unlock window ends in {}: a person must run catsign unlock again after it",
                     format_duration(left));
        run_expiry_command(config_.daemon.expiry_command, "warn", left);
      }
      status = "unlocked, " + format_duration(left) + " left";
    } else {
      status = "locked (" + s.locked_reason + ")";
    }
    if (status != last_status_) {
      notify_status(status);
      last_status_ = status;
    }
  }

 private:
  const Config& config_;
  SigningService& service_;
  KeyHolder& key_;
  KeyHolder::Clock::time_point warned_for_{};
  std::string last_status_;
};

}  // namespace

int run_daemon(int argc, char** argv) {
  CLI::App app("catsignd: signs configured catalogs on request, with a PKCS#11 key a person unlocks");
  std::string config_path = kDefaultConfigPath;
  app.add_option("--config", config_path, "configuration file")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "catsignd: %s (see catsignd --help)\n", e.what());
    return 2;
  }
  spdlog::set_default_logger(make_daemon_logger("catsignd"));
  try {
    // This process will hold a PIN: no core files, not dumpable, not readable through /proc.
    token::disable_core_dumps();
    ::signal(SIGPIPE, SIG_IGN);
    Config config = load_config(config_path);
    const KeyConfig& catalog_key =
        config.key(config.catalogs.key.empty() ? std::nullopt : std::optional<std::string>(config.catalogs.key));
    std::vector<const KeyConfig*> other_keys;
    if (!config.packages.key.empty()) other_keys.push_back(&config.key(config.packages.key));
    for (const auto& [name, repository] : config.repositories) {
      const KeyConfig* k = &config.repository_key(repository);
      if (std::find(other_keys.begin(), other_keys.end(), k) == other_keys.end()) other_keys.push_back(k);
    }
    KeyHolder key(config, catalog_key, other_keys);
    std::error_code ec;
    std::filesystem::create_directories(config.audit_log.parent_path(), ec);
    AuditLog audit(config.audit_log);
    SigningService service(config, key, audit);
    Server server(config, service, sockets_from_systemd());
    WindowWatch watch(config, service, key);
    // The spool ([spool] dir, docs/DESIGN.md "Contract"): request files answered on a thread of its own.
    std::unique_ptr<Spool> spool;
    if (!config.spool_dir.empty()) spool = std::make_unique<Spool>(config, service);
    g_server = &server;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    audit.append({{"event", "start"}, {"key", openpgp::format_fingerprint(key.fingerprint())}, {"result", "ok"}});
    spdlog::info("ready, locked: key {} ({}), sign socket {}, admin socket {}",
                 openpgp::format_fingerprint(key.fingerprint()), key.key_config().name, config.daemon.socket.string(),
                 config.daemon.admin_socket.string());
    notify_ready("locked: a person must run catsign unlock");
    if (spool) spool->start();
    // WATCHDOG=1 from the event loop's own tick: it stops when the loop does.
    Watchdog watchdog;
    if (watchdog.enabled())
      spdlog::info("systemd watchdog on: the event loop sends WATCHDOG=1 about every {} ms",
                   std::max<long long>(1000, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 watchdog.interval()).count() / 3));
    server.run([&] {
      watchdog.kick();
      watch.tick();
    });
    if (spool) spool->stop();  // finishes a request in hand; answers nothing more
    notify_stopping();
    g_server = nullptr;
    service.lock("daemon stopping", Peer{::getpid(), ::getuid(), ::getgid()});
    spdlog::info("stopped");
    return 0;
  } catch (const Error& e) {
    spdlog::critical("{}", e.what());
    return exit_code_for(e.code());
  } catch (const std::exception& e) {
    spdlog::critical("unexpected failure: {}", e.what());
    return 1;
  }
}

}  // namespace catsign::daemon
