// SPDX-License-Identifier: Apache-2.0
// The real catsignd under a fake systemd: its log lines carry journald priorities when
// JOURNAL_STREAM names its stderr, and its watchdog keep-alives come from the event loop,
// stopping while the loop is stuck.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <thread>

#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

// A datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind failed");
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  std::string path() const { return path_.string(); }

  // The next datagram, or "<none>" after `timeout_ms`.
  std::string receive(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return "<none>";
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    return n < 0 ? std::string("<none>") : std::string(buf, static_cast<std::size_t>(n));
  }
  // The next datagram that is `want`, skipping others (STATUS= lines); false after the timeout.
  bool wait_for(const std::string& want, int timeout_ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
      if (left <= 0) return false;
      std::string got = receive(static_cast<int>(left));
      if (got == want) return true;
      if (got == "<none>") return false;
    }
  }
  void drain() {
    while (receive(0) != "<none>") {
    }
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

TEST(DaemonJournal, PriorityPrefixesWhenJournalStreamNamesStderr) {
  DaemonOptions o;
  o.journal_stream = "stderr";
  DaemonFixture d(o);
  EXPECT_EQ(d.raw("SIGN nonsense\n").code, "BAD_REQUEST");
  ASSERT_EQ(d.unlock().code, "OK");
  ASSERT_EQ(d.sign("unstable/i386/5.10").code, "OK");
  EXPECT_EQ(d.raw("SIGN unstable/i386/5.10 sha256=" + std::string(64, 'a') + "\n").code, "HASH_MISMATCH");
  d.stop();
  std::string log = d.log();
  EXPECT_NE(log.find("<6>ready, locked"), std::string::npos) << log;
  EXPECT_NE(log.find("<6>signed SIGN unstable/i386/5.10"), std::string::npos) << log;
  EXPECT_NE(log.find("<4>refused SIGN unstable/i386/5.10"), std::string::npos) << log;
  // Every line has its prefix, and only the prefix: no "info:" word, no colour codes.
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    EXPECT_TRUE(line.size() > 3 && line[0] == '<' && line[2] == '>' && line[1] >= '2' && line[1] <= '7') << line;
    EXPECT_EQ(line.find("info:"), std::string::npos) << line;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  }
}

TEST(DaemonJournal, PlainLinesWhenJournalStreamIsSomeoneElses) {
  DaemonOptions o;
  o.journal_stream = "other";
  DaemonFixture d(o);
  EXPECT_EQ(d.raw("SIGN unstable/i386/5.10 sha256=" + std::string(64, 'a') + "\n").code, "LOCKED");
  d.stop();
  std::string log = d.log();
  EXPECT_NE(log.find("info: ready, locked"), std::string::npos) << log;
  EXPECT_NE(log.find("warning: refused SIGN"), std::string::npos) << log;
  EXPECT_EQ(log.find("<6>"), std::string::npos) << log;
}

// WATCHDOG=1 comes from the event loop's tick: it flows while the loop turns, stops while the
// loop is stuck (here in a token call that hangs on the event thread: LOCK tears the token
// down inline, and the faulty module's C_Logout hangs), and comes back when it is free.
TEST(DaemonWatchdog, KeepAlivesStopWhileTheEventLoopIsStuck) {
  TempDir control;
  TempDir notify_dir;
  NotifySocket notify(notify_dir / "notify");
  auto faults = [&](const std::string& text) {
    write_text(control / "control.new", text);
    std::filesystem::rename(control / "control.new", control / "control");
  };
  DaemonOptions o;
  o.module = FAULTY_PKCS11_MODULE;
  o.env["FAULTY_PKCS11_CONTROL"] = (control / "control").string();
  o.env["NOTIFY_SOCKET"] = notify.path();
  o.env["WATCHDOG_USEC"] = "1500000";
  DaemonFixture d(o);
  ASSERT_TRUE(notify.wait_for("READY=1\nSTATUS=locked: a person must run catsign unlock", 5000));
  ASSERT_TRUE(notify.wait_for("WATCHDOG=1", 3000));
  ASSERT_TRUE(notify.wait_for("WATCHDOG=1", 3000));
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  ASSERT_TRUE(notify.wait_for("WATCHDOG=1", 3000));

  faults("hang C_Logout 60000\n");
  auto locked = std::async(std::launch::async, [&] { return d.lock("watchdog test"); });
  // The LOCK is taken within a loop turn; any keep-alive from before it is drained, then the
  // loop stays silent for longer than two intervals.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  notify.drain();
  EXPECT_EQ(notify.receive(3500), "<none>") << "a keep-alive while the event loop was stuck";
  EXPECT_EQ(locked.wait_for(std::chrono::seconds(0)), std::future_status::timeout);  // still stuck

  faults("");  // the hang ends early once the line is gone
  EXPECT_EQ(locked.get().code, "OK");
  EXPECT_TRUE(notify.wait_for("WATCHDOG=1", 3000));
  EXPECT_NE(d.log().find("systemd watchdog on"), std::string::npos) << d.log();
}

TEST(DaemonWatchdog, NoKeepAlivesUnlessAsked) {
  TempDir notify_dir;
  NotifySocket notify(notify_dir / "notify");
  DaemonOptions o;
  o.env["NOTIFY_SOCKET"] = notify.path();
  DaemonFixture d(o);
  ASSERT_TRUE(notify.wait_for("READY=1\nSTATUS=locked: a person must run catsign unlock", 5000));
  // Two seconds: two ticks of the event loop, each of which would have kicked.
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < end) {
    std::string got = notify.receive(200);
    EXPECT_NE(got, "WATCHDOG=1");
  }
}

}  // namespace
}  // namespace catsign::testing
