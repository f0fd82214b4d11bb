// SPDX-License-Identifier: Apache-2.0
// bench/raw_sign_rate: the raw PKCS#11 signing rate of one key, the ceiling that catsignd is
// measured against (scripts/bench). Opens the token, logs in once, then calls
// Signer::sign_digest (libp11 -> C_Sign, CKM_RSA_PKCS over a SHA-256 DigestInfo) in a loop on
// THREADS threads for SECONDS seconds, and prints one line per thread count:
//   threads=1 signatures=1234 seconds=5.00 rate=246.8
//
// usage: raw_sign_rate MODULE KEY_URI SECONDS THREADS... (the PIN on fd 3)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "catsign/token/pin.hpp"
#include "catsign/token/token.hpp"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: raw_sign_rate MODULE KEY_URI SECONDS THREADS... (PIN on fd 3)\n");
    return 2;
  }
  try {
    const std::string module = argv[1];
    const std::string uri = argv[2];
    const double seconds = std::atof(argv[3]);
    catsign::token::Token token = catsign::token::Token::open(module, uri);
    {
      catsign::SecureString pin = catsign::token::read_pin("PIN: ", 3);
      token.login(pin);
    }
    catsign::Signer& signer = token.signer();
    catsign::Bytes digest(32, 0x5a);
    // Warm up: the first signature finds the key and opens a session.
    (void)signer.sign_digest(catsign::HashAlgorithm::sha256, digest);
    for (int a = 4; a < argc; ++a) {
      const int threads = std::atoi(argv[a]);
      std::atomic<long> count{0};
      std::atomic<bool> stop{false};
      std::vector<std::thread> pool;
      auto start = std::chrono::steady_clock::now();
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          catsign::Bytes d(32, static_cast<std::uint8_t>(t));
          while (!stop.load(std::memory_order_relaxed)) {
            (void)signer.sign_digest(catsign::HashAlgorithm::sha256, d);
            count.fetch_add(1, std::memory_order_relaxed);
          }
        });
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
      stop.store(true);
      for (std::thread& t : pool) t.join();
      double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("threads=%d signatures=%ld seconds=%.2f rate=%.1f\n", threads, count.load(), took,
                  static_cast<double>(count.load()) / took);
      std::fflush(stdout);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "raw_sign_rate: %s\n", e.what());
    return 1;
  }
}
