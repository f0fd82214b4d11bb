// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/daemon.hpp"

#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/signalfd.h>
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
#include "catsign/daemon/http_front.hpp"
#include "catsign/daemon/reload.hpp"
#include "catsign/daemon/server.hpp"
#include "catsign/daemon/spool.hpp"
#include "catsign/token/pin.hpp"
#include "catsign/util/digest.hpp"
#include "catsign/util/duration.hpp"
#include "catsign/util/file.hpp"
#include "catsign/version.hpp"

namespace catsign::daemon {

namespace {

std::string signal_name(int sig) {
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) return "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

// Every signal whose default would end the process and that is not a fault of its own: blocked
// in all threads and read from a signalfd on the event thread, so none ends catsignd without
// a word. SIGTERM, SIGINT and SIGQUIT stop it cleanly; SIGHUP reloads the configuration and
// reopens the audit log; the rest are logged and ignored.
class SignalWatch {
 public:
  // Must run before any thread is started: threads inherit the mask.
  SignalWatch() {
    sigemptyset(&set_);
    for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR,
                    SIGSTKFLT, SIGXCPU, SIGXFSZ})
      sigaddset(&set_, sig);
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) sigaddset(&set_, sig);
    if (int e = ::pthread_sigmask(SIG_BLOCK, &set_, nullptr); e != 0)
      throw Error(Errc::internal, std::string("cannot block signals: ") + std::strerror(e));
    fd_ = UniqueFd(::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd_) throw Error(Errc::internal, std::string("cannot create a signalfd: ") + std::strerror(errno));
  }

  int fd() const noexcept { return fd_.get(); }

  // Handles every signal that has come: `stop` for a stop signal, `reload` for SIGHUP (with
  // the sender's pid).
  void dispatch(const std::function<void(const std::string&)>& stop, const std::function<void(pid_t)>& reload) {
    signalfd_siginfo info{};
    while (::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      const int sig = static_cast<int>(info.ssi_signo);
      const std::string name = signal_name(sig);
      if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
        spdlog::info("{} from pid {}: stopping", name, info.ssi_pid);
        stop(name);
      } else if (sig == SIGHUP) {
        reload(static_cast<pid_t>(info.ssi_pid));
      } else {
        spdlog::warn("{} from pid {} ignored: catsignd stops on SIGTERM or SIGINT", name, info.ssi_pid);
      }
    }
  }

 private:
  sigset_t set_{};
  UniqueFd fd_;
};

// Faults (and abort) can't wait for the event loop. Their handler says in one write(2) which
// signal ends the process, then lets it end as it would have: through the previous handler,
// the default or a sanitizer's report.
struct FatalSignal {
  int sig = 0;
  char text[128] = {};
  std::size_t length = 0;
  struct sigaction previous {};
};
FatalSignal g_fatal[5];

extern "C" void on_fatal_signal(int sig, siginfo_t* info, void*) {
  for (FatalSignal& f : g_fatal) {
    if (f.sig != sig) continue;
    (void)!::write(STDERR_FILENO, f.text, f.length);
    ::sigaction(sig, &f.previous, nullptr);
  }
  // A fault the kernel raised comes back when the instruction runs again; a signal that was
  // sent (kill, abort) is raised again, and arrives as soon as this handler returns.
  bool fault = info != nullptr && info->si_code > 0 && sig != SIGABRT;
  if (!fault) ::raise(sig);
}

void note_fatal_signals() {
  const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  for (std::size_t i = 0; i < std::size(sigs); ++i) {
    FatalSignal& f = g_fatal[i];
    f.sig = sigs[i];
    std::string text = "critical: " + signal_name(f.sig) +
                       ": catsignd ends here; the next start replaces its socket files\n";
    f.length = std::min(text.size(), sizeof f.text);
    std::memcpy(f.text, text.data(), f.length);
    struct sigaction sa {};
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    ::sigaction(f.sig, &sa, &f.previous);
  }
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
    // The command gets the signals a program expects: none blocked (the daemon blocks the
    // ones it reads from its signalfd), SIGPIPE at its default (the daemon ignores it).
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, pipe;
    sigemptyset(&none);
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &pipe);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, "/bin/sh", nullptr, &attr, argv, envp.data());
    posix_spawnattr_destroy(&attr);
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
  WindowWatch(LiveConfig& config, SigningService& service, KeyHolder& key)
      : live_(config), service_(service), key_(key) {}

  void tick() {
    const auto config = live_.get();  // expiry_command and warn_before follow a reload
    if (service_.expire_if_due()) run_expiry_command(config->daemon.expiry_command, "expired", std::chrono::seconds(0));
    LockState s = key_.state();
    auto now = KeyHolder::Clock::now();
    std::string status;
    if (s.unlocked) {
      auto left = std::chrono::duration_cast<std::chrono::seconds>(s.expires - now);
      if (left <= config->daemon.warn_before && warned_for_ != s.since) {
        warned_for_ = s.since;
        spdlog::warn("the unlock window ends in {}: a person must run catsign unlock again after it",
                     format_duration(left));
        run_expiry_command(config->daemon.expiry_command, "warn", left);
      }
      status = "unlocked, " + format_duration(left) + " left";
    } else {
      status = "locked (" + s.locked_reason + ")";
    }
    watch_key_expiry(*config, now);
    if (status != last_status_) {
      notify_status(status);
      last_status_ = status;
    }
  }

 private:
  // A key that expires stops the daemon signing (KeyHolder::sign): say so warn_before ahead,
  // once, and once more when it has expired, in the log and through expiry_command with the
  // events "key-expires" and "key-expired".
  void watch_key_expiry(const Config& config, KeyHolder::Clock::time_point now) {
    auto expiry = key_.soonest_key_expiry(now);
    if (!expiry) return;
    // Each expiry is told once; an extended key (a reload read its new certificate) has a new
    // one, told again when its time comes.
    const auto at = std::chrono::time_point_cast<std::chrono::seconds>(now) + expiry->left;
    const std::string which = expiry->key + "@" + std::to_string(at.time_since_epoch().count());
    if (expiry->left.count() <= 0) {
      if (key_expired_warned_ == which) return;
      key_expired_warned_ = which;
      spdlog::error("key '{}' has expired: catsignd signs nothing with it; run catsign extend --key {} --expires "
                    "DURATION, then systemctl reload catsignd",
                    expiry->key, expiry->key);
      run_expiry_command(config.daemon.expiry_command, "key-expired", std::chrono::seconds(0));
    } else if (expiry->left <= config.daemon.warn_before && key_expiry_warned_ != which) {
      key_expiry_warned_ = which;
      spdlog::warn("key '{}' expires in {}: run catsign extend --key {} --expires DURATION before then",
                   expiry->key, format_duration(expiry->left), expiry->key);
      run_expiry_command(config.daemon.expiry_command, "key-expires", expiry->left);
    }
  }

  LiveConfig& live_;
  SigningService& service_;
  KeyHolder& key_;
  std::string key_expiry_warned_;  // "key@expiry" last warned of, before and after
  std::string key_expired_warned_;
  KeyHolder::Clock::time_point warned_for_{};
  std::string last_status_;
};

}  // namespace

int run_daemon(int argc, char** argv) {
  CLI::App app("catsignd: signs configured catalogs on request, with a PKCS#11 key a person unlocks");
  std::string config_path = kDefaultConfigPath;
  app.add_option("--config", config_path, "configuration file")->capture_default_str();
  app.set_version_flag("--version", std::string("catsignd ") + kVersionLine, "print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "catsignd: %s (see catsignd --help)\n", e.what());
    return 2;
  }
  spdlog::set_default_logger(make_daemon_logger("catsignd"));
  try {
    // Before anything starts a thread.
    SignalWatch signals;
    note_fatal_signals();
    // This process will hold a PIN: no core files, not dumpable, not readable through /proc.
    token::disable_core_dumps();
    ::signal(SIGPIPE, SIG_IGN);
    // The configuration the daemon started with stays alive for its whole run: the key holder
    // keeps it (a reload can't change the token or the keys), the rest follows `live`.
    const auto initial = std::make_shared<const Config>(load_config(config_path));
    const Config& config = *initial;
    LiveConfig live(initial);
    // Every catalog key (several while a key is rotated), the package keys and the repository
    // keys live on one token and are unlocked together.
    std::vector<const KeyConfig*> keys = keys_in_use(config);
    const std::size_t catalog_key_count = config.signing_keys({}, config.catalogs.keys).size();
    const KeyConfig& catalog_key = *keys.front();
    KeyHolder key(config, catalog_key, std::vector<const KeyConfig*>(keys.begin() + 1, keys.end()));
    std::error_code ec;
    std::filesystem::create_directories(config.audit_log.parent_path(), ec);
    AuditLog audit(config.audit_log);
    SigningService service(initial, key, audit);
    ActivatedSockets activated = sockets_from_systemd();
    std::vector<int> http_sockets = std::move(activated.http);
    Server server(live, service, activated);
    WindowWatch watch(live, service, key);
    // The spool ([spool] dir, docs/DESIGN.md "Contract"): request files answered on a thread of
    // its own, with the configuration it was started with (a reload starts a new one).
    std::shared_ptr<const Config> spool_config = initial;
    std::unique_ptr<Spool> spool;
    if (!config.spool_dir.empty()) spool = std::make_unique<Spool>(*spool_config, service);
    // The HTTPS front ([http], docs/DESIGN.md "HTTPS front"), over the same service. It keeps
    // the configuration it started with: a reload that changes [http] is refused.
    std::unique_ptr<HttpFront> http;
    if (config.http.enabled) {
      http = std::make_unique<HttpFront>(config, service, std::move(http_sockets));
      spdlog::info("HTTPS front on {}", http->describe());
    } else {
      for (int fd : http_sockets) ::close(fd);
    }
    std::string stopped_by;
    // SIGHUP (docs/DESIGN.md "Reload"): reopen the audit log for rotation, then read the
    // configuration again. What can change without a person takes effect for the next
    // request and the unlock stays; anything else, or a file that does not load, is refused
    // and the daemon goes on with what it has. Either way the attempt is audited.
    auto reload = [&](pid_t from) {
      spdlog::info("SIGHUP from pid {}: reopening the audit log and reading {} again", from, config_path);
      try {
        if (std::optional<std::filesystem::path> previous = audit.reopen())
          spdlog::info("audit log reopened: {} goes on from {}", audit.path().string(), previous->string());
      } catch (const std::exception& e) {
        spdlog::error("the audit log was not reopened, it goes on in the open file: {}", e.what());
      }
      nlohmann::json record = {{"event", "reload"}, {"peer", {{"pid", from}}}};
      try {
        Bytes text = read_file(config_path, 1 << 20);
        record["config_sha256"] = sha256_hex(text);
        auto next = std::make_shared<const Config>(parse_config(
            std::string_view(reinterpret_cast<const char*>(text.data()), text.size()), std::filesystem::absolute(config_path)));
        if (std::optional<std::string> why = restart_needed(*live.get(), *next)) throw Error(Errc::refused, *why);
        // The same keys' certificates (restart_needed kept their paths), read again: after
        // `catsign extend` the new expiry holds from the next signature, and nobody has to
        // unlock again. A certificate that now holds another key, or is revoked, refuses the
        // reload with nothing changed.
        for (const std::string& line : key.reload_certificates()) {
          spdlog::info("{}", line);
          record["certificates"].push_back(line);
        }
        // Everything that can fail is built before anything is swapped.
        std::unique_ptr<Spool> next_spool;
        if (!next->spool_dir.empty()) next_spool = std::make_unique<Spool>(*next, service);
        service.reconfigure(next);
        live.set(next);
        if (spool) spool->stop();
        spool = std::move(next_spool);
        spool_config = next;
        if (spool) spool->start();
        record["result"] = "ok";
        service.set_reload_error("");
        spdlog::info("configuration reloaded from {} (sha256 {})", config_path, record["config_sha256"].get<std::string>());
      } catch (const std::exception& e) {
        record["result"] = "refused";
        record["message"] = e.what();
        service.set_reload_error(e.what());
        spdlog::error("reload refused, the previous configuration stays: {}", e.what());
      }
      try {
        audit.append(record);
      } catch (const std::exception& e) {
        spdlog::error("audit log write failed for a reload: {}", e.what());
      }
    };
    server.watch(signals.fd(), [&] {
      signals.dispatch(
          [&](const std::string& name) {
            if (stopped_by.empty()) stopped_by = name;
            server.stop();
          },
          reload);
    });
    audit.append({{"event", "start"}, {"key", service.catalog_fingerprints()}, {"result", "ok"}});
    spdlog::info("ready, locked: catalog key{} {}, sign socket {}, admin socket {}",
                 catalog_key_count == 1 ? "" : "s", service.catalog_keys_described(), config.daemon.socket.string(),
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
    http.reset();              // the same for the HTTPS front
    notify_stopping();
    const std::string why = stopped_by.empty() ? "daemon stopping" : "daemon stopping on " + stopped_by;
    service.lock(why, Peer{::getpid(), ::getuid(), ::getgid()});
    try {
      audit.append({{"event", "stop"}, {"reason", why}, {"result", "ok"}});
    } catch (const std::exception& e) {
      spdlog::error("audit log write failed for the stop: {}", e.what());
    }
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
