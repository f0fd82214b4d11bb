// SPDX-License-Identifier: Apache-2.0
// bench/socket_client: catsignd's signing rate through its socket (scripts/bench). CLIENTS
// threads each send REQUEST (one line, e.g. "SIGN unstable/i386/5.10 sha256=<hex>") on a fresh
// connection, read the whole reply, and repeat for SECONDS seconds. Prints one line:
//   clients=4 ok=1234 errors=0 seconds=5.00 rate=246.8 median_ms=16.1 p99_ms=21.0
// and the first error reply, if any, on stderr. Exit 1 when any request failed.
//
// usage: socket_client SOCKET SECONDS CLIENTS REQUEST
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// One request on a fresh connection; true on "OK <n>\n<n bytes>".
bool one_request(const std::string& path, const std::string& request, std::string& error) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  std::size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      error = std::string("send: ") + std::strerror(errno);
      ::close(fd);
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string in;
  char buf[16384];
  for (;;) {
    std::size_t nl = in.find('\n');
    if (nl != std::string::npos) {
      if (in.rfind("OK ", 0) == 0) {
        std::size_t need = std::strtoull(in.c_str() + 3, nullptr, 10);
        if (in.size() - nl - 1 >= need) break;
      } else {
        error = in.substr(0, nl);
        ::close(fd);
        return false;
      }
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "connection closed before the reply was complete: " + in.substr(0, in.find('\n'));
      ::close(fd);
      return false;
    }
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: socket_client SOCKET SECONDS CLIENTS REQUEST\n");
    return 2;
  }
  const std::string path = argv[1];
  const double seconds = std::atof(argv[2]);
  const int clients = std::atoi(argv[3]);
  const std::string request = std::string(argv[4]) + "\n";
  std::atomic<bool> stop{false};
  std::atomic<long> errors{0};
  std::mutex mutex;
  std::vector<double> latencies;  // ms
  std::string first_error;
  std::vector<std::thread> pool;
  auto start = Clock::now();
  for (int c = 0; c < clients; ++c)
    pool.emplace_back([&] {
      std::vector<double> mine;
      std::string error;
      while (!stop.load(std::memory_order_relaxed)) {
        auto t0 = Clock::now();
        if (one_request(path, request, error)) {
          mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        } else {
          errors.fetch_add(1);
          std::lock_guard lock(mutex);
          if (first_error.empty()) first_error = error;
        }
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (std::thread& t : pool) t.join();
  double took = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    if (latencies.empty()) return 0.0;
    std::size_t i = static_cast<std::size_t>(p * static_cast<double>(latencies.size() - 1) + 0.5);
    return latencies[std::min(i, latencies.size() - 1)];
  };
  std::printf("clients=%d ok=%zu errors=%ld seconds=%.2f rate=%.1f median_ms=%.2f p99_ms=%.2f\n", clients,
              latencies.size(), errors.load(), took, static_cast<double>(latencies.size()) / took, pct(0.5),
              pct(0.99));
  if (!first_error.empty()) std::fprintf(stderr, "socket_client: first error: %s\n", first_error.c_str());
  return errors.load() == 0 ? 0 : 1;
}
