// SPDX-License-Identifier: Apache-2.0
// The daemon's configuration as it stands now. A reload replaces it whole; readers take a
// snapshot and keep it for the request, the connection or the tick they are serving, so a
// reload never changes a value under them.
#pragma once

#include <memory>
#include <mutex>

#include "catsign/config.hpp"

namespace catsign::daemon {

class LiveConfig {
 public:
  explicit LiveConfig(std::shared_ptr<const Config> initial) : current_(std::move(initial)) {}

  std::shared_ptr<const Config> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void set(std::shared_ptr<const Config> next) {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Config> current_;
};

}  // namespace catsign::daemon
