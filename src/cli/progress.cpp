// SPDX-License-Identifier: Apache-2.0
#include "catsign/cli/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace catsign::cli {

TerminalProgress::TerminalProgress() : enabled_(::isatty(STDERR_FILENO) != 0) {}

void TerminalProgress::show(const std::string& what, std::size_t done, std::size_t total) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done != total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  std::fprintf(stderr, "\r\033[K%s %zu/%zu", what.c_str(), done, total);
  std::fflush(stderr);
  shown_ = true;
}

void TerminalProgress::clear() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
  shown_ = false;
}

}  // namespace catsign::cli
