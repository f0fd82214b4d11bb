// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/reload.hpp"

#include <algorithm>

namespace catsign::daemon {

std::vector<const KeyConfig*> keys_in_use(const Config& config) {
  std::vector<const KeyConfig*> keys;
  auto add = [&](const KeyConfig* k) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  };
  for (const KeyConfig* k : config.signing_keys({}, config.catalogs.keys)) add(k);
  if (!config.packages.keys.empty())
    for (const KeyConfig* k : config.signing_keys({}, config.packages.keys)) add(k);
  for (const auto& [name, repository] : config.repositories)
    for (const KeyConfig* k : config.repository_keys(repository)) add(k);
  return keys;
}

std::optional<std::string> restart_needed(const Config& current, const Config& next) {
  const std::string keep = ": catsignd keeps serving the configuration it has; restart it to apply this "
                           "(a restart locks it, and a person must unlock it again)";
  if (current.token.module != next.token.module) return "[token] module changed" + keep;
  if (current.token.sessions != next.token.sessions) return "[token] sessions changed" + keep;
  const std::vector<const KeyConfig*> before = keys_in_use(current);
  const std::vector<const KeyConfig*> after = keys_in_use(next);
  if (before.size() != after.size()) return "the set of keys the daemon signs with changed" + keep;
  for (std::size_t i = 0; i < before.size(); ++i) {
    const KeyConfig& a = *before[i];
    const KeyConfig& b = *after[i];
    if (a.name != b.name) return "the set of keys the daemon signs with changed" + keep;
    if (a.uri != b.uri) return "key '" + a.name + "': its uri changed" + keep;
    if (a.certificate != b.certificate) return "key '" + a.name + "': its certificate changed" + keep;
  }
  // Which key signs what is a decision a person makes with the daemon restarted, not one a
  // SIGHUP slips in: the catalog keys, the package keys and each repository's keys, in order.
  auto names = [](const std::vector<const KeyConfig*>& keys) {
    std::vector<std::string> out;
    for (const KeyConfig* k : keys) out.push_back(k->name);
    return out;
  };
  if (names(current.signing_keys({}, current.catalogs.keys)) != names(next.signing_keys({}, next.catalogs.keys)))
    return "[catalogs] key changed" + keep;
  if (current.packages.keys != next.packages.keys) return "[packages] key changed" + keep;
  for (const auto& [name, repository] : next.repositories) {
    auto was = current.repositories.find(name);
    if (was != current.repositories.end() &&
        names(current.repository_keys(was->second)) != names(next.repository_keys(repository)))
      return "[repositories." + name + "] key changed" + keep;
  }
  if (current.daemon.socket != next.daemon.socket || current.daemon.admin_socket != next.daemon.admin_socket)
    return "[daemon] socket or admin_socket changed" + keep;
  if (current.audit_log != next.audit_log) return "[audit] log changed" + keep;
  const HttpConfig& a = current.http;
  const HttpConfig& b = next.http;
  if (a.enabled != b.enabled || a.listen != b.listen || a.tls != b.tls || a.tls_certificate != b.tls_certificate ||
      a.tls_key != b.tls_key || a.client_ca != b.client_ca || a.client_names != b.client_names || a.allow != b.allow ||
      a.max_connections != b.max_connections)
    return "[http] changed" + keep;
  return std::nullopt;
}

}  // namespace catsign::daemon
