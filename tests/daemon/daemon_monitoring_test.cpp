// SPDX-License-Identifier: Apache-2.0
// Watching catsignd: `catsign status --check` in every state a monitoring plugin can report,
// with its exit code; `catsign status --prometheus` read by python3-prometheus-client's own
// parser and matched against `status --json`; the packaged node-exporter timer's command; and
// `status --socket` on the sign socket.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>
#include <sstream>

#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

using nlohmann::json;

// One line in the monitoring-plugins format: "SERVICE STATE - text | perfdata".
const std::regex kPluginLine(
    R"(CATSIGN (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+( \| expires_in_s=[0-9]+s;[0-9]+:;1:;0;[0-9]* signatures=[0-9]+c)?\n)");

struct Check {
  int exit_code;
  std::string line;
};

Check check(const DaemonFixture& d, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"status", "--config", d.config().string(), "--check"};
  args.insert(args.end(), extra.begin(), extra.end());
  RunResult r = d.catsign(args);
  EXPECT_TRUE(std::regex_match(r.out, kPluginLine)) << r.out;
  EXPECT_EQ(r.err, "");
  return {r.exit_code, r.out};
}

TEST(StatusCheck, CriticalWhileLocked) {
  DaemonFixture d;
  Check c = check(d);
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_EQ(c.line.rfind("CATSIGN CRITICAL - locked (not unlocked since start): a person must run catsign unlock | "
                         "expires_in_s=0s;86400:;1:;0;3600 signatures=0c",
                         0),
            0u)
      << c.line;
}

TEST(StatusCheck, OkWithMoreThanWarnBeforeLeftThenCriticalWhenTheTokenIsRemoved) {
  DaemonOptions o;
  o.unlock_window = "2h";
  o.warn_before = "30min";
  DaemonFixture d(o);
  ASSERT_EQ(d.unlock().code, "OK");
  ASSERT_EQ(d.sign("unstable/i386/5.10").code, "OK");
  Check c = check(d);
  EXPECT_EQ(c.exit_code, 0) << c.line;
  EXPECT_EQ(c.line.rfind("CATSIGN OK - unlocked, 1h 59m left | expires_in_s=71", 0), 0u) << c.line;
  EXPECT_NE(c.line.find(";1800:;1:;0;7200 signatures=1c"), std::string::npos) << c.line;
  // What the udev rule does when the token is pulled out.
  RunResult l = d.catsign({"lock", "--config", d.config().string(), "--reason", "token-removed"});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  c = check(d);
  EXPECT_EQ(c.exit_code, 2) << c.line;
  EXPECT_EQ(c.line.rfind("CATSIGN CRITICAL - locked (token-removed)", 0), 0u) << c.line;
}

TEST(StatusCheck, WarningWithLessThanWarnBeforeLeft) {
  DaemonOptions o;
  o.unlock_window = "1h";
  o.warn_before = "24h";
  DaemonFixture d(o);
  ASSERT_EQ(d.unlock().code, "OK");
  Check c = check(d);
  EXPECT_EQ(c.exit_code, 1) << c.line;
  EXPECT_EQ(c.line.rfind("CATSIGN WARNING - unlocked, 59m ", 0), 0u) << c.line;
  EXPECT_NE(c.line.find("left (less than 1d 0h): a person must run catsign unlock again before it ends | "),
            std::string::npos)
      << c.line;
}

TEST(StatusCheck, UnknownWhenTheDaemonIsUnreachable) {
  DaemonFixture d;
  d.stop();
  Check c = check(d);
  EXPECT_EQ(c.exit_code, 3) << c.line;
  EXPECT_EQ(c.line.rfind("CATSIGN UNKNOWN - cannot reach catsignd at " + d.admin_socket().string(), 0), 0u) << c.line;
  // A config that can't be read is no state of the daemon's either.
  RunResult r = d.catsign({"status", "--config", (d.dir() / "nope.toml").string(), "--check"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out.rfind("CATSIGN UNKNOWN - ", 0), 0u) << r.out;
}

TEST(StatusSocket, TheSignSocketAnswersStatusWithoutAConfig) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  RunResult r = d.catsign({"status", "--config", "/nonexistent/catsign.toml", "--socket", d.sign_socket().string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["state"], "unlocked");
  r = d.catsign({"status", "--socket", d.sign_socket().string(), "--check"});
  EXPECT_EQ(r.exit_code, 1) << r.out;  // 1h left, warn_before 24h
  r = d.catsign({"status", "--socket", (d.dir() / "run/none.sock").string()});
  EXPECT_EQ(r.exit_code, 6) << r.err;
}

// python3-prometheus-client's parser (Debian's package, so Debian's /usr/bin/python3): every
// sample as "name{label=value,...} value type" lines.
std::map<std::string, double> parse_prometheus(const std::string& exposition) {
  const char* script = R"(
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        print("%s {%s} %s %s" % (s.name, labels, repr(s.value), family.type))
)";
  RunResult r = run({"/usr/bin/python3", "-c", script}, exposition);
  EXPECT_EQ(r.exit_code, 0) << r.err << "\n" << exposition;
  std::map<std::string, double> out;
  std::istringstream in(r.out);
  std::string name, labels, type;
  double value = 0;
  while (in >> name >> labels >> value >> type) out[name + labels] = value;
  return out;
}

TEST(StatusPrometheus, ParsedByPrometheusClientAndMatchingStatusJson) {
  DaemonFixture d;
  // A refusal while locked, two signatures, a hash mismatch, an unknown catalog.
  EXPECT_EQ(d.sign("unstable/i386/5.10").code, "LOCKED");
  ASSERT_EQ(d.unlock().code, "OK");
  ASSERT_EQ(d.sign("unstable/i386/5.10").code, "OK");
  ASSERT_EQ(d.sign("dublin/sparc/5.9", "mode=clearsign").code, "OK");
  EXPECT_EQ(d.raw("SIGN kiel/i386/5.11 sha256=" + std::string(64, '0') + "\n").code, "HASH_MISMATCH");
  EXPECT_EQ(d.raw("SIGN munich/i386/5.11 sha256=" + std::string(64, '0') + "\n").code, "UNKNOWN_CATALOG");

  RunResult p = d.catsign({"status", "--config", d.config().string(), "--prometheus"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  RunResult j = d.catsign({"status", "--config", d.config().string(), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  json s = json::parse(j.out);
  std::map<std::string, double> m = parse_prometheus(p.out);

  EXPECT_EQ(m.at("catsign_up{}"), 1);
  EXPECT_EQ(m.at("catsign_unlocked{}"), s["state"] == "unlocked" ? 1 : 0);
  EXPECT_EQ(m.at("catsign_unlocked{}"), 1);
  // Two requests a moment apart: the clock may have ticked between them.
  EXPECT_NEAR(m.at("catsign_unlock_expires_in_seconds{}"), s["expires_in_s"].get<double>(), 2);
  EXPECT_GT(m.at("catsign_unlock_expires_in_seconds{}"), 3500);
  EXPECT_EQ(m.at("catsign_unlock_warn_before_seconds{}"), s["warn_before_s"].get<double>());
  EXPECT_EQ(m.at("catsign_token_present{}"), s["token_present"].get<bool>() ? 1 : 0);
  EXPECT_EQ(m.at("catsign_last_signature_timestamp_seconds{}"), s["last_signature_time"].get<double>());
  EXPECT_NEAR(m.at("catsign_last_signature_timestamp_seconds{}"), static_cast<double>(std::time(nullptr)), 120);
  // Counters by result: ok, and each refusal's error name.
  EXPECT_EQ(s["signatures_by_result"], json::parse(R"({"ok":2,"locked":1,"hash_mismatch":1,"unknown_target":1})"));
  for (const auto& [result, n] : s["signatures_by_result"].items())
    EXPECT_EQ(m.at("catsign_signatures_total{result=" + result + "}"), n.get<double>()) << result;
  EXPECT_EQ(m.at("catsign_signatures_total{result=ok}"), s["signatures"].get<double>());
  // The types the parser saw.
  RunResult types = run({"/usr/bin/python3", "-c",
                         "import sys\nfrom prometheus_client.parser import text_string_to_metric_families\n"
                         "print(' '.join(sorted('%s:%s' % (f.name, f.type) for f in text_string_to_metric_families(sys.stdin.read()))))"},
                        p.out);
  EXPECT_NE(types.out.find("catsign_signatures:counter"), std::string::npos) << types.out;
  EXPECT_NE(types.out.find("catsign_unlocked:gauge"), std::string::npos) << types.out;
}

TEST(StatusPrometheus, LockedAndUnreachable) {
  DaemonFixture d;
  RunResult p = d.catsign({"status", "--config", d.config().string(), "--prometheus"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  std::map<std::string, double> m = parse_prometheus(p.out);
  EXPECT_EQ(m.at("catsign_unlocked{}"), 0);
  EXPECT_EQ(m.at("catsign_unlock_expires_in_seconds{}"), 0);
  EXPECT_EQ(m.at("catsign_token_present{}"), 0);
  EXPECT_EQ(m.at("catsign_last_signature_timestamp_seconds{}"), 0);
  EXPECT_EQ(m.at("catsign_signatures_total{result=ok}"), 0);
  d.stop();
  p = d.catsign({"status", "--config", d.config().string(), "--prometheus"});
  EXPECT_EQ(p.exit_code, 6);
  EXPECT_NE(p.err.find("cannot reach catsignd"), std::string::npos) << p.err;
  m = parse_prometheus(p.out);
  EXPECT_EQ(m.at("catsign_up{}"), 0);
  EXPECT_EQ(m.count("catsign_unlocked{}"), 0u);  // unknown, so absent rather than wrong
}

// packaging/catsign-metrics.service's command, run as the timer runs it (paths moved into the
// fixture): the collector's file appears whole and parses.
TEST(StatusPrometheus, TheTimerCommandWritesTheTextfile) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  std::string unit = read_text(std::filesystem::path(CATSIGN_SOURCE_DIR) / "packaging/catsign-metrics.service");
  std::istringstream in(unit);
  std::string exec;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("ExecStart=", 0) == 0) exec = line.substr(10);
  const std::string sh = "/bin/sh -c '";
  ASSERT_EQ(exec.rfind(sh, 0), 0u) << exec;
  ASSERT_EQ(exec.back(), '\'');
  std::string command = exec.substr(sh.size(), exec.size() - sh.size() - 1);
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (std::size_t at = command.find(from); at != std::string::npos; at = command.find(from, at + to.size()))
      command.replace(at, from.size(), to);
  };
  TempDir collector;
  replace_all("/usr/bin/catsign", CATSIGN_BINARY);
  replace_all("/etc/catsign/catsign.toml", d.config().string());
  replace_all("/var/lib/prometheus/node-exporter", collector.path().string());
  RunResult r = run({"sh", "-c", command});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(collector / "catsign.prom.tmp"));
  std::map<std::string, double> m = parse_prometheus(read_text(collector / "catsign.prom"));
  EXPECT_EQ(m.at("catsign_unlocked{}"), 1);
}

}  // namespace
}  // namespace catsign::testing
