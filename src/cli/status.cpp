// SPDX-License-Identifier: Apache-2.0
// catsign status: locked or unlocked, time left, why it locked, the key, signatures served;
// for people (the default), scripts (--json), monitoring plugins (--check: one line in the
// monitoring-plugins format, exit 0 OK / 1 WARNING / 2 CRITICAL / 3 UNKNOWN) and Prometheus
// (--prometheus: the text exposition format, for node-exporter's textfile collector).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <optional>
#include <string>

#include "catsign/cli/command.hpp"
#include "catsign/config.hpp"
#include "catsign/daemon/client.hpp"
#include "catsign/daemon/metrics.hpp"
#include "catsign/util/duration.hpp"

namespace catsign::cli {

namespace {

struct StatusOptions {
  std::string config = kDefaultConfigPath;
  std::string socket;  // instead of the config's admin socket: either socket answers STATUS
  bool json = false;
  bool check = false;
  bool prometheus = false;
};

// The monitoring-plugins exit codes (Monitoring Plugins Development Guidelines, "Plugin
// Return Codes"), which --check uses instead of catsign's own.
enum PluginState { kOk = 0, kWarning = 1, kCritical = 2, kUnknown = 3 };

struct Fetched {
  std::string socket;
  std::optional<Config> config;  // when read (not with --socket)
  nlohmann::json status;
};

Fetched fetch(const StatusOptions& o) {
  Fetched f;
  if (o.socket.empty()) {
    f.config = load_config(o.config);
    f.socket = f.config->daemon.admin_socket.string();
  } else {
    f.socket = o.socket;
  }
  daemon::Client client(f.socket, std::chrono::seconds(10));
  std::string reply = client.call("STATUS\n");
  f.status = nlohmann::json::parse(reply, nullptr, false);
  if (f.status.is_discarded() || !f.status.is_object())
    throw Error(Errc::malformed, "catsignd at " + f.socket + " sent a status this client cannot read");
  return f;
}

long long number(const nlohmann::json& s, const char* key) {
  auto it = s.find(key);
  return it != s.end() && it->is_number() ? it->get<long long>() : 0;
}

// "CATSIGN OK - unlocked, 6d 23h left | expires_in_s=603000s;86400:;1:;0;604800 signatures=12c"
// The thresholds are ranges in the guidelines' syntax: "86400:" warns below a day, "1:" is
// critical below one second, i.e. locked.
int run_check(const StatusOptions& o) {
  static const char* kNames[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
  auto say = [](PluginState state, const std::string& text, const std::string& perfdata = "") {
    std::printf("CATSIGN %s - %s%s\n", kNames[state], text.c_str(), perfdata.empty() ? "" : (" | " + perfdata).c_str());
    return static_cast<int>(state);
  };
  Fetched f;
  try {
    f = fetch(o);
  } catch (const std::exception& e) {
    // Unreachable, unreadable config, garbage: the plugin can't tell, so UNKNOWN (never a
    // catsign exit code a monitoring system would misread).
    return say(kUnknown, e.what());
  }
  const nlohmann::json& s = f.status;
  bool unlocked = s.value("state", "") == "unlocked";
  bool token = s.value("token_present", false);
  long long left = number(s, "expires_in_s");
  long long warn = s.contains("warn_before_s") ? number(s, "warn_before_s")
                   : f.config                   ? static_cast<long long>(f.config->daemon.warn_before.count())
                                                : 86400;
  long long window = number(s, "unlock_window_s");
  std::string perfdata = "expires_in_s=" + std::to_string(left) + "s;" + std::to_string(warn) + ":;1:;0;" +
                         (window > 0 ? std::to_string(window) : std::string()) + " signatures=" +
                         std::to_string(number(s, "signatures")) + "c";
  if (!unlocked) {
    std::string reason = s.value("locked_reason", "");
    return say(kCritical, "locked" + (reason.empty() ? std::string() : " (" + reason + ")") +
                              ": a person must run catsign unlock",
               perfdata);
  }
  if (!token) return say(kCritical, "unlocked, but the token is absent: a person must check it", perfdata);
  // A key's own expiry (its certificate's key expiration time) stops signing as surely as the
  // unlock window does, but no unlock mends it: catsign extend does.
  auto key_left = s.find("key_expires_in_s");
  const std::string key_name = s.value("key_expiring", "");
  if (key_left != s.end() && key_left->is_number()) {
    const long long k = key_left->get<long long>();
    perfdata += " key_expires_in_s=" + std::to_string(k) + "s;" + std::to_string(warn) + ":;1:";
    if (k <= 0)
      return say(kCritical,
                 "key '" + key_name + "' has expired, catsignd signs nothing with it: run catsign extend --key " +
                     key_name + " --expires DURATION",
                 perfdata);
    if (k <= warn)
      return say(kWarning,
                 "key '" + key_name + "' expires in " + format_duration(std::chrono::seconds(k)) +
                     ": run catsign extend --key " + key_name + " --expires DURATION before then",
                 perfdata);
  }
  std::string text = "unlocked, " + format_duration(std::chrono::seconds(left)) + " left";
  if (left <= warn)
    return say(kWarning,
               text + " (less than " + format_duration(std::chrono::seconds(warn)) +
                   "): a person must run catsign unlock again before it ends",
               perfdata);
  return say(kOk, text, perfdata);
}

// The Prometheus text exposition format (version 0.0.4): HELP and TYPE lines, then samples.
int run_prometheus(const StatusOptions& o) {
  auto metric = [](const char* name, const char* type, const char* help) {
    std::printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
  };
  Fetched f;
  try {
    f = fetch(o);
  } catch (const Error& e) {
    // Still a valid exposition, so a textfile collector shows the daemon down rather than
    // last run's numbers.
    metric("catsign_up", "gauge", "Whether catsignd answered the status request (1) or not (0).");
    std::printf("catsign_up 0\n");
    std::fflush(stdout);
    throw;
  }
  std::fputs(daemon::prometheus_exposition(f.status).c_str(), stdout);
  return 0;
}

int run_status(const StatusOptions& o) {
  if (o.check) return run_check(o);
  if (o.prometheus) return run_prometheus(o);
  Fetched f = fetch(o);
  if (o.json) {
    std::printf("%s\n", f.status.dump().c_str());
    return 0;
  }
  const nlohmann::json& s = f.status;
  bool unlocked = s.value("state", "") == "unlocked";
  if (unlocked) {
    std::printf("state:       unlocked, %s left\n",
                format_duration(std::chrono::seconds(s.value("expires_in_s", 0LL))).c_str());
  } else {
    std::printf("state:       locked (%s): a person must run catsign unlock\n", s.value("locked_reason", "").c_str());
  }
  std::printf("key:         %s\n", s.value("key_fingerprint", "").c_str());
  if (const auto it = s.find("key_expires_in_s"); it != s.end() && it->is_number_integer()) {
    const long long left = it->get<long long>();
    if (left <= 0) {
      std::printf("key expiry:  key '%s' has EXPIRED: run catsign extend\n", s.value("key_expiring", "").c_str());
    } else {
      std::printf("key expiry:  key '%s' expires in %s\n", s.value("key_expiring", "").c_str(),
                  format_duration(std::chrono::seconds(left)).c_str());
    }
  }
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
  cmd->add_option("--socket", o->socket,
                  "ask this socket instead (the sign socket answers STATUS too); the configuration is not read");
  CLI::Option* json = cmd->add_flag("--json", o->json, "print the daemon's status object as JSON");
  CLI::Option* check = cmd->add_flag(
      "--check", o->check,
      "one line for Nagios/Icinga (monitoring-plugins format, perfdata expires_in_s and key_expires_in_s); exit 0 OK, 1 "
      "WARNING (less than warn_before left of the unlock window or of a key), 2 CRITICAL (locked, token absent or a key "
      "expired), 3 UNKNOWN (daemon unreachable)");
  CLI::Option* prom = cmd->add_flag("--prometheus", o->prometheus,
                                    "print the Prometheus text exposition, e.g. for node-exporter's textfile collector");
  json->excludes(check)->excludes(prom);
  check->excludes(prom);
  cmd->callback([o, &ctx] { ctx.exit_code = run_status(*o); });
}

}  // namespace catsign::cli
