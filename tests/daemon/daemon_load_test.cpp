// SPDX-License-Identifier: Apache-2.0
// catsignd under load: 1,000 hostile connections at once (idle ones, slow ones
// that send a byte a second, garbage ones), kept at 1,000 for the whole run by reconnecting
// whatever the daemon drops, while well-behaved clients keep asking for signatures. Prints
// the well-behaved clients' median and 99th-percentile latency unloaded and loaded, and the
// daemon's open descriptors and memory before and after. Asserts: every well-behaved request
// succeeded, the descriptors come back to their baseline once the hostile peers are gone,
// and resident memory grew by less than 32 MiB.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../support/process_stats.hpp"
#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kHostile = 1000;
constexpr int kClients = 2;
constexpr auto kUnloaded = 5s;
constexpr auto kLoaded = 12s;

struct Latencies {
  std::vector<double> ms;
  long failures = 0;
  std::string first_failure;
  double pct(double p) const { return percentile(ms, p); }
};

// kClients well-behaved clients sign for `how_long`, each on fresh connections.
Latencies well_behaved(const DaemonFixture& d, const std::string& request, std::chrono::seconds how_long) {
  Latencies all;
  std::mutex m;
  auto end = Clock::now() + how_long;
  std::vector<std::thread> pool;
  for (int c = 0; c < kClients; ++c)
    pool.emplace_back([&] {
      Latencies mine;
      while (Clock::now() < end) {
        auto t0 = Clock::now();
        Reply r = d.raw(request, false, 30);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (r.code == "OK") {
          mine.ms.push_back(ms);
        } else {
          ++mine.failures;
          if (mine.first_failure.empty()) mine.first_failure = r.code + " " + r.payload;
        }
      }
      std::lock_guard lock(m);
      all.ms.insert(all.ms.end(), mine.ms.begin(), mine.ms.end());
      all.failures += mine.failures;
      if (all.first_failure.empty()) all.first_failure = mine.first_failure;
    });
  for (auto& t : pool) t.join();
  return all;
}

// The hostile crowd: kHostile connections, a third idle, a third sending one byte of a request
// line a second, a third sending binary garbage. Whatever the daemon closes is reopened, so
// the crowd stays at kHostile until stop().
class Crowd {
 public:
  enum class Kind { idle, slow, garbage };
  explicit Crowd(std::string socket) : socket_(std::move(socket)) {}
  ~Crowd() { stop(); }

  void start() {
    for (int i = 0; i < kHostile; ++i) peers_.push_back({-1, static_cast<Kind>(i % 3), 0});
    for (Peer& p : peers_) open(p);
    thread_ = std::thread([this] { loop(); });
  }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    for (Peer& p : peers_)
      if (p.fd >= 0) ::close(p.fd);
    peers_.clear();
  }
  long reconnects() const { return reconnects_.load(); }
  long failed_connects() const { return failed_connects_.load(); }
  int open_now() const { return open_now_.load(); }

 private:
  struct Peer {
    int fd;
    Kind kind;
    std::size_t sent;
  };

  void open(Peer& p) {
    p.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_.c_str(), sizeof addr.sun_path - 1);
    // Blocking connect: waits for room in the daemon's listen backlog.
    if (::connect(p.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(p.fd);
      p.fd = -1;
      ++failed_connects_;
      return;
    }
    p.sent = 0;
    if (p.kind == Kind::garbage) {
      std::string junk(200, '\0');
      for (char& c : junk) c = static_cast<char>(rng_() & 0xff);
      (void)::send(p.fd, junk.data(), junk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  }

  void loop() {
    const std::string slow_line = "SIGN unstable/i386/5.10 sha256=" + std::string(64, 'a') + "\n";
    auto next_byte = Clock::now();
    std::vector<pollfd> fds;
    char buf[4096];
    while (!stopping_) {
      fds.clear();
      for (const Peer& p : peers_) fds.push_back({p.fd, POLLIN, 0});
      ::poll(fds.data(), fds.size(), 100);
      int open_count = 0;
      for (std::size_t i = 0; i < peers_.size(); ++i) {
        Peer& p = peers_[i];
        if (p.fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
          ssize_t n = ::recv(p.fd, buf, sizeof buf, MSG_DONTWAIT);
          if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) {
            ::close(p.fd);
            p.fd = -1;
          }
        }
        if (p.fd < 0 && !stopping_) {
          open(p);
          ++reconnects_;
        }
        if (p.fd >= 0) ++open_count;
      }
      open_now_ = open_count;
      if (Clock::now() >= next_byte) {
        next_byte += 1s;
        for (Peer& p : peers_)
          if (p.fd >= 0 && p.kind == Kind::slow && p.sent < slow_line.size())
            if (::send(p.fd, slow_line.data() + p.sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) ++p.sent;
      }
    }
  }

  std::string socket_;
  std::vector<Peer> peers_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<long> reconnects_{0};
  std::atomic<long> failed_connects_{0};
  std::atomic<int> open_now_{0};
  std::mt19937 rng_{20261125};
};

TEST(DaemonLoadTest, ThousandHostileConnectionsWhileSigning) {
  // The hostile peers, the clients and the daemon (which inherits this limit) each need more
  // than 1,000 descriptors.
  ASSERT_NO_FATAL_FAILURE(raise_fd_limit(kHostile + 200));
  DaemonOptions options;
  options.max_connections = 1200;
  options.request_timeout = "5s";
  DaemonFixture d(options);
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  const std::string tuple = "unstable/i386/5.10";
  const std::string request = "SIGN " + tuple + " sha256=" + d.sha256_of(tuple) + "\n";
  ASSERT_EQ(d.raw(request).code, "OK") << d.log();  // warm: the key is found, a session opened

  Latencies unloaded = well_behaved(d, request, kUnloaded);
  const std::size_t fds_before = open_fds(d.pid());
  const long rss_before = vm_kib(d.pid(), "VmRSS");

  Crowd crowd(d.sign_socket().string());
  crowd.start();
  std::this_thread::sleep_for(500ms);
  const std::size_t fds_crowded = open_fds(d.pid());
  Latencies loaded = well_behaved(d, request, kLoaded);
  const std::size_t fds_loaded = open_fds(d.pid());
  const int crowd_open = crowd.open_now();
  const long rss_loaded = vm_kib(d.pid(), "VmRSS");
  crowd.stop();

  // The daemon sees every hostile peer leave; its descriptors return to the baseline.
  std::size_t fds_after = open_fds(d.pid());
  for (auto end = Clock::now() + 10s; fds_after > fds_before && Clock::now() < end;) {
    std::this_thread::sleep_for(100ms);
    fds_after = open_fds(d.pid());
  }
  const long rss_after = vm_kib(d.pid(), "VmRSS");
  ASSERT_EQ(d.raw(request).code, "OK") << "the daemon stopped signing after the load: " << d.log();

  std::printf(
      "[ load     ] %d hostile connections (idle, 1 byte/s, garbage), %ld reconnects, %ld failed connects, %d open at the end\n"
      "[ load     ] well-behaved, %d clients: unloaded %zu signatures, median %.1f ms, p99 %.1f ms\n"
      "[ load     ] well-behaved, %d clients: loaded   %zu signatures, median %.1f ms, p99 %.1f ms, %ld failed\n"
      "[ load     ] daemon fds: before %zu, crowded %zu, end of load %zu, after %zu\n"
      "[ load     ] daemon VmRSS: before %ld KiB, loaded %ld KiB, after %ld KiB; VmHWM %ld KiB\n",
      kHostile, crowd.reconnects(), crowd.failed_connects(), crowd_open, kClients, unloaded.ms.size(),
      unloaded.pct(0.5), unloaded.pct(0.99), kClients, loaded.ms.size(), loaded.pct(0.5), loaded.pct(0.99),
      loaded.failures, fds_before, fds_crowded, fds_loaded, fds_after, rss_before, rss_loaded, rss_after,
      vm_kib(d.pid(), "VmHWM"));

  EXPECT_EQ(unloaded.failures, 0) << unloaded.first_failure;
  EXPECT_EQ(loaded.failures, 0) << "first failure: " << loaded.first_failure;
  EXPECT_GT(loaded.ms.size(), 0u);
  EXPECT_GE(fds_crowded, fds_before + kHostile * 9 / 10) << "the crowd never reached the daemon";
  EXPECT_LE(fds_after, fds_before) << "descriptors leaked";
  EXPECT_LT(rss_after - rss_before, 32 * 1024) << "resident memory grew by more than 32 MiB";
  EXPECT_LT(rss_loaded - rss_before, 32 * 1024) << "resident memory grew by more than 32 MiB under load";
  // Not a target, a sanity bound: a well-behaved client is never starved to its timeout.
  EXPECT_LT(loaded.pct(0.99), 5000.0);
}

}  // namespace
}  // namespace catsign::testing
