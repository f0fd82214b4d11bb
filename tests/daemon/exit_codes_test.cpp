// SPDX-License-Identifier: Apache-2.0
// The same failure gives the same exit code from every command (the README's table, the one
// error table in error.hpp): a wrong PIN from the one-shot `catsign sign` and from `catsign
// unlock` through the daemon; a missing file; a bad request through the daemon and locally.
#include <gtest/gtest.h>

#include <algorithm>

#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(ExitCodes, AWrongPinExitsTheSameFromSignAndFromUnlock) {
  DaemonFixture d;
  const std::string wrong = "0000000000";
  write_text(d.dir() / "data", "some catalog\n");
  RunResult sign = d.catsign({"sign", "--config", d.config().string(), "--pin-fd", "3", (d.dir() / "data").string()}, &wrong);
  RunResult unlock = d.catsign({"unlock", "--config", d.config().string(), "--pin-fd", "3"}, &wrong);
  EXPECT_EQ(sign.exit_code, 1) << sign.err;
  EXPECT_EQ(unlock.exit_code, sign.exit_code) << unlock.err;
  for (const RunResult* r : {&sign, &unlock}) {
    EXPECT_NE(r->err.find("wrong PIN for token \"catsign\""), std::string::npos) << r->err;
    EXPECT_EQ(r->err.find(wrong), std::string::npos) << "the PIN must never be echoed";
    EXPECT_EQ(lines(r->err), 1u) << r->err;
  }
  EXPECT_FALSE(std::filesystem::exists(d.dir() / "data.asc"));
  // The right PIN still works from both.
  const std::string pin = DaemonFixture::kPin;
  EXPECT_EQ(d.catsign({"unlock", "--config", d.config().string(), "--pin-fd", "3"}, &pin).exit_code, 0);
  EXPECT_EQ(d.catsign({"sign", "--config", d.config().string(), "--pin-fd", "3", (d.dir() / "data").string()}, &pin)
                .exit_code,
            0);
}

TEST(ExitCodes, AMissingFileIsAUsageError) {
  DaemonFixture d;
  const std::string pin = DaemonFixture::kPin;
  // A file to sign that is not there: refused before the PIN is asked for.
  RunResult r = d.catsign({"sign", "--config", d.config().string(), "--pin-fd", "3", (d.dir() / "nosuch").string()}, &pin);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // A configured certificate that is not there.
  std::string config = read_text(d.config());
  std::size_t at = config.find("keys/catalog.asc");
  ASSERT_NE(at, std::string::npos) << config;
  config.replace(at, std::string("keys/catalog.asc").size(), "keys/missing.asc");
  write_text(d.dir() / "missing-cert.toml", config);
  write_text(d.dir() / "data", "x\n");
  r = d.catsign({"sign", "--config", (d.dir() / "missing-cert.toml").string(), "--pin-fd", "3",
                 (d.dir() / "data").string()},
                &pin);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("missing.asc"), std::string::npos) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  // A missing config file.
  r = d.catsign({"status", "--config", (d.dir() / "nosuch.toml").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(ExitCodes, ABadRequestExitsTwoThroughTheDaemonAndLocally) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  // Through the daemon: a tuple with a path trick is a bad request (BAD_REQUEST).
  RunResult remote = d.catsign({"request", "--socket", d.sign_socket().string(), "unstable/../5.10", "--sha256",
                                std::string(64, 'a'), "--output", (d.dir() / "out.asc").string()});
  EXPECT_EQ(remote.exit_code, 2) << remote.err;
  // Locally: a hash that is not 64 hex digits.
  RunResult local = d.catsign({"request", "--socket", d.sign_socket().string(), "unstable/i386/5.10", "--sha256", "xyz",
                               "--output", (d.dir() / "out.asc").string()});
  EXPECT_EQ(local.exit_code, 2) << local.err;
  EXPECT_FALSE(std::filesystem::exists(d.dir() / "out.asc"));
  // And the other codes of the table, through the daemon: unknown catalog 5, hash mismatch 4.
  EXPECT_EQ(d.catsign({"request", "--socket", d.sign_socket().string(), "nosuch/i386/5.10", "--sha256",
                       std::string(64, 'a'), "--output", (d.dir() / "out.asc").string()})
                .exit_code,
            5);
  EXPECT_EQ(d.catsign({"request", "--socket", d.sign_socket().string(), "unstable/i386/5.10", "--sha256",
                       std::string(64, 'a'), "--output", (d.dir() / "out.asc").string()})
                .exit_code,
            4);
  ASSERT_EQ(d.lock().code, "OK");
  EXPECT_EQ(d.catsign({"request", "--socket", d.sign_socket().string(), "unstable/i386/5.10", "--sha256",
                       d.sha256_of("unstable/i386/5.10"), "--output", (d.dir() / "out.asc").string()})
                .exit_code,
            3);
}

}  // namespace
}  // namespace catsign::testing
