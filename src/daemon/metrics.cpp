// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/metrics.hpp"

namespace catsign::daemon {

namespace {

long long number(const nlohmann::json& s, const char* key) {
  auto it = s.find(key);
  if (it == s.end() || !it->is_number()) return 0;
  return it->get<long long>();
}

// Label values escape backslash, double quote and newline (the exposition format's rules).
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string prometheus_exposition(const nlohmann::json& s) {
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto sample = [&](const std::string& name, long long value) { out += name + " " + std::to_string(value) + "\n"; };
  metric("catsign_up", "gauge", "Whether catsignd answered the status request (1) or not (0).");
  sample("catsign_up", 1);
  metric("catsign_unlocked", "gauge", "Whether catsignd is unlocked and can sign (1) or locked (0).");
  sample("catsign_unlocked", s.value("state", "") == "unlocked" ? 1 : 0);
  metric("catsign_unlock_expires_in_seconds", "gauge", "Seconds until the unlock window ends; 0 when locked.");
  sample("catsign_unlock_expires_in_seconds", number(s, "expires_in_s"));
  if (s.contains("warn_before_s")) {
    metric("catsign_unlock_warn_before_seconds", "gauge",
           "The daemon's warn_before: alert when catsign_unlock_expires_in_seconds falls below it.");
    sample("catsign_unlock_warn_before_seconds", number(s, "warn_before_s"));
  }
  metric("catsign_token_present", "gauge", "Whether the token is open and logged in (1) or not (0).");
  sample("catsign_token_present", s.value("token_present", false) ? 1 : 0);
  metric("catsign_signatures_total", "counter",
         "Signature requests (SIGN, SIGNPKG) answered since catsignd started, by result: ok, or the refusal's code.");
  if (auto by = s.find("signatures_by_result"); by != s.end() && by->is_object()) {
    for (const auto& [result, n] : by->items())
      sample("catsign_signatures_total{result=\"" + label(result) + "\"}", n.is_number() ? n.get<long long>() : 0);
  } else {
    sample("catsign_signatures_total{result=\"ok\"}", number(s, "signatures"));
  }
  if (auto k = s.find("key_expires_in_s"); k != s.end() && k->is_number()) {
    metric("catsign_key_expires_in_seconds", "gauge",
           "Seconds until the configured key that expires first does (negative once it has); absent when none "
           "expires.");
    sample("catsign_key_expires_in_seconds", k->get<long long>());
  }
  metric("catsign_last_signature_timestamp_seconds", "gauge",
         "Unix time of the last signature made; 0 when none since catsignd started.");
  sample("catsign_last_signature_timestamp_seconds", number(s, "last_signature_time"));
  return out;
}

}  // namespace catsign::daemon
