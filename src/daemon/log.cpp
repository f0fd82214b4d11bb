// SPDX-License-Identifier: Apache-2.0
// catsignd's log lines. See log.hpp for the contract.
#include "catsign/daemon/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "catsign/daemon/systemd.hpp"

namespace catsign::daemon {

namespace {

// "%*" in the pattern: the line's syslog priority, for the "<N>" prefix of sd-daemon(3).
class PriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    char digit = static_cast<char>('0' + syslog_priority(msg.level));
    dest.push_back(digit);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<PriorityFlag>(); }
};

}  // namespace

int syslog_priority(spdlog::level::level_enum level) noexcept {
  switch (level) {
    case spdlog::level::critical: return 2;  // LOG_CRIT
    case spdlog::level::err: return 3;       // LOG_ERR
    case spdlog::level::warn: return 4;      // LOG_WARNING
    case spdlog::level::info: return 6;      // LOG_INFO
    default: return 7;                       // LOG_DEBUG
  }
}

std::shared_ptr<spdlog::logger> make_daemon_logger(const std::string& name) {
  if (stderr_is_journal()) {
    // journald adds the time, the unit and the priority's colour itself: the line is only the
    // prefix and the message.
    auto logger = spdlog::stderr_logger_mt(name);
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<PriorityFlag>('*').set_pattern("<%*>%v");
    logger->set_formatter(std::move(formatter));
    return logger;
  }
  auto logger = spdlog::stderr_color_mt(name);
  logger->set_pattern("%^%l%$: %v");
  return logger;
}

}  // namespace catsign::daemon
