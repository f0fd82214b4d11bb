// SPDX-License-Identifier: Apache-2.0
// catsignd reloads on SIGHUP without a person: a new release is signable at once and the
// unlock stays; a change to the keys, or a broken file, is refused while the old
// configuration goes on serving; the audit log is reopened for rotation; SIGTERM stops it
// cleanly (exit 0, a stop record, the sockets gone).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

std::vector<nlohmann::json> records(const std::filesystem::path& log) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_text(log));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::size_t reloads_in(const std::filesystem::path& log) {
  std::size_t n = 0;
  for (const nlohmann::json& r : records(log)) n += r.value("event", "") == "reload";
  return n;
}

// Sends SIGHUP and waits (bounded) until the reload's audit record is written.
void reload(const DaemonFixture& d, const std::filesystem::path& log) {
  const std::size_t before = reloads_in(log);
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  for (int i = 0; i < 300 && reloads_in(log) == before; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GT(reloads_in(log), before) << "no reload record within 15 s";
}

nlohmann::json last_reload(const std::filesystem::path& log) {
  nlohmann::json last;
  for (const nlohmann::json& r : records(log))
    if (r.value("event", "") == "reload") last = r;
  return last;
}

void replace(std::string& text, const std::string& from, const std::string& to) {
  std::size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
}

TEST(DaemonReload, NewReleaseIsSignableAtOnceAndTheUnlockStays) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  // A release the daemon does not know yet: refused.
  std::filesystem::create_directories(d.root() / "munich/i386/5.10");
  write_text(d.root() / "munich/i386/5.10/catalog", "# a new release\n");
  EXPECT_EQ(d.sign("munich/i386/5.10").code, "UNKNOWN_CATALOG");
  std::string config = read_text(d.config());
  replace(config, "\"kiel\"]", "\"kiel\", \"munich\"]");
  write_text(d.config(), config);
  reload(d, d.audit_log());
  nlohmann::json r = last_reload(d.audit_log());
  EXPECT_EQ(r.value("result", ""), "ok") << r.dump();
  EXPECT_EQ(r.value("config_sha256", "").size(), 64u) << r.dump();
  // Signable at once, without a person: still unlocked.
  Reply signed_now = d.sign("munich/i386/5.10");
  EXPECT_EQ(signed_now.code, "OK") << signed_now.payload << d.log();
  nlohmann::json status = nlohmann::json::parse(d.status());
  EXPECT_EQ(status["state"], "unlocked");
  EXPECT_EQ(status["reload_error"], "");
  EXPECT_EQ(d.catsign({"audit", "verify", d.audit_log().string()}).exit_code, 0);
}

TEST(DaemonReload, AKeyChangeOrABrokenFileIsRefusedAndTheOldConfigurationServes) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  const std::string original = read_text(d.config());

  // The catalog key's uri changes: that needs a person, so it is refused.
  std::string changed = original;
  replace(changed, "object=catalog-test", "object=catalog-2027");
  replace(changed, "\"kiel\"]", "\"kiel\", \"munich\"]");
  write_text(d.config(), changed);
  reload(d, d.audit_log());
  nlohmann::json r = last_reload(d.audit_log());
  EXPECT_EQ(r.value("result", ""), "refused") << r.dump();
  EXPECT_NE(r.value("message", "").find("uri changed"), std::string::npos) << r.dump();
  nlohmann::json status = nlohmann::json::parse(d.status());
  EXPECT_NE(status["reload_error"].get<std::string>().find("uri changed"), std::string::npos) << status.dump();
  EXPECT_EQ(status["state"], "unlocked");
  // The old configuration serves: the old key signs, the new release is still unknown.
  EXPECT_EQ(d.sign("unstable/i386/5.10").code, "OK");
  std::filesystem::create_directories(d.root() / "munich/i386/5.10");
  write_text(d.root() / "munich/i386/5.10/catalog", "x\n");
  EXPECT_EQ(d.sign("munich/i386/5.10").code, "UNKNOWN_CATALOG");

  // A file that does not parse (an unquoted duration, a typo'd key): refused the same way.
  for (const std::string& broken : {original + "\n[daemon]\nunlock_window = 7d\n", original + "\n[catalogz]\n"}) {
    write_text(d.config(), broken);
    reload(d, d.audit_log());
    r = last_reload(d.audit_log());
    EXPECT_EQ(r.value("result", ""), "refused") << r.dump();
    EXPECT_FALSE(nlohmann::json::parse(d.status())["reload_error"].get<std::string>().empty());
    EXPECT_EQ(d.sign("unstable/i386/5.10").code, "OK");
  }
  // Put right, the next reload succeeds and clears the error.
  write_text(d.config(), original);
  reload(d, d.audit_log());
  EXPECT_EQ(last_reload(d.audit_log()).value("result", ""), "ok");
  EXPECT_EQ(nlohmann::json::parse(d.status())["reload_error"], "");
  EXPECT_EQ(d.catsign({"audit", "verify", d.audit_log().string()}).exit_code, 0);
}

TEST(DaemonReload, RotationByRenameAndSighupKeepsOneChain) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  ASSERT_EQ(d.sign("unstable/i386/5.10").code, "OK");
  const std::filesystem::path rotated = d.audit_log().string() + ".1";
  std::filesystem::rename(d.audit_log(), rotated);
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  for (int i = 0; i < 300 && !std::filesystem::exists(d.audit_log()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(std::filesystem::exists(d.audit_log()));
  ASSERT_EQ(d.sign("unstable/i386/5.10").code, "OK");
  // The series verifies in order; the new file alone says it continues an earlier one.
  RunResult series = d.catsign({"audit", "verify", rotated.string(), d.audit_log().string()});
  EXPECT_EQ(series.exit_code, 0) << series.out << series.err;
  // A changed line in either file breaks it.
  for (const std::filesystem::path& victim : {rotated, d.audit_log()}) {
    std::string text = read_text(victim);
    std::size_t at = text.find("\"result\":\"ok\"");
    ASSERT_NE(at, std::string::npos) << victim;
    std::string tampered = text;
    tampered.replace(at, 14, "\"result\":\"OK\"");
    write_text(victim, tampered);
    EXPECT_NE(d.catsign({"audit", "verify", rotated.string(), d.audit_log().string()}).exit_code, 0) << victim;
    write_text(victim, text);
  }
}

TEST(DaemonReload, SigtermStopsCleanly) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  ASSERT_EQ(d.sign("unstable/i386/5.10").code, "OK");
  d.stop();
  ASSERT_TRUE(WIFEXITED(d.exit_status())) << d.exit_status();
  EXPECT_EQ(WEXITSTATUS(d.exit_status()), 0) << d.log();
  EXPECT_FALSE(std::filesystem::exists(d.sign_socket()));
  EXPECT_FALSE(std::filesystem::exists(d.admin_socket()));
  std::vector<nlohmann::json> log = records(d.audit_log());
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back().value("event", ""), "stop") << log.back().dump();
  bool locked = false;
  for (const nlohmann::json& r : log) locked = locked || (r.value("event", "") == "lock" && r.value("was_unlocked", false));
  EXPECT_TRUE(locked) << "the stop locks (tears the token down) and says so";
  EXPECT_EQ(d.catsign({"audit", "verify", d.audit_log().string()}).exit_code, 0);
}

}  // namespace
}  // namespace catsign::testing
