// SPDX-License-Identifier: Apache-2.0
// "checked 1200/2146" redrawn in place on stderr, at most ten times a second, and only when
// stderr is a terminal: logs and pipes get no progress noise.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace catsign::cli {

class TerminalProgress {
 public:
  TerminalProgress();  // enabled when stderr is a terminal
  void show(const std::string& what, std::size_t done, std::size_t total);
  void clear();

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point last_{};
  bool shown_ = false;
};

}  // namespace catsign::cli
