// SPDX-License-Identifier: Apache-2.0
// bench/fsync_latency: what one audit record costs the disk (scripts/bench). Appends COUNT
// lines of 400 bytes to FILE (a fresh file, removed again), each followed by fdatasync, as
// catsignd does for a record that must be on disk before its reply, and prints one line:
//   count=200 median_ms=0.91 p90_ms=2.40
//
// usage: fsync_latency FILE COUNT
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fsync_latency FILE COUNT\n");
    return 2;
  }
  const char* path = argv[1];
  const int count = std::atoi(argv[2]);
  if (count < 1) {
    std::fprintf(stderr, "fsync_latency: COUNT must be positive\n");
    return 2;
  }
  int fd = ::open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::fprintf(stderr, "fsync_latency: cannot create %s: %s\n", path, std::strerror(errno));
    return 1;
  }
  const std::string line(399, 'x');
  std::vector<double> ms;
  for (int i = 0; i < count; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    std::string l = line + "\n";
    if (::write(fd, l.data(), l.size()) != static_cast<ssize_t>(l.size()) || ::fdatasync(fd) != 0) {
      std::fprintf(stderr, "fsync_latency: write or fdatasync failed: %s\n", std::strerror(errno));
      ::close(fd);
      ::unlink(path);
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  ::close(fd);
  ::unlink(path);
  std::sort(ms.begin(), ms.end());
  std::printf("count=%d median_ms=%.2f p90_ms=%.2f\n", count, ms[ms.size() / 2], ms[ms.size() * 9 / 10]);
  return 0;
}
