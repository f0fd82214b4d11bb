// The configuration file (TOML, docs/DESIGN.md "Contract"). Unknown sections and keys are refused so a typo
// cannot silently turn a safety setting off. Relative paths are taken from the config file's
// folder.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace catsign {

struct TokenConfig {
  std::string module = "/usr/lib/softhsm/libsofthsm2.so";
  unsigned sessions = 1;
  // A signature the token has not returned by then fails, and the daemon locks: a hung
  // token needs a person.
  std::chrono::seconds sign_timeout{30};
  // A pinentry program (pinentry-curses, pinentry-gnome3) to ask for the PIN instead of the
  // terminal; --pin-fd still wins.
  std::string pinentry;
};

struct KeyConfig {
  std::string name;  // the table name: [keys.<name>]
  std::string uri;   // RFC 7512 PKCS#11 URI of the private key
  std::filesystem::path certificate;
  std::filesystem::path revocation;
};

struct DaemonConfig {
  std::filesystem::path socket = "/run/catsign/sign.sock";
  std::filesystem::path admin_socket = "/run/catsign/admin.sock";
  std::vector<uid_t> sign_uids;
  std::vector<gid_t> sign_gids;
  std::vector<uid_t> admin_uids;
  std::chrono::seconds unlock_window{7 * 86400};
  std::chrono::seconds warn_before{86400};
  std::string expiry_command;
  std::chrono::seconds request_timeout{10};  // to send a whole request line
  unsigned max_connections = 256;            // open connections, both sockets together
};

struct CatalogsConfig {
  std::filesystem::path root = "/srv/opencsw/mirror";
  std::vector<std::string> releases;
  std::vector<std::string> arches;
  std::vector<std::string> osrels;
  std::string key;  // empty: the only key
  std::string resign_form = "cleartext";
  bool require_package_signatures = false;
  std::filesystem::path package_keyring;
  std::uint64_t max_size = 256ull << 20;
};

struct PackagesConfig {
  std::filesystem::path root;
  std::vector<std::string> suffixes{".pkg.gz", ".pkg"};
  std::string key;
};

struct Config {
  std::filesystem::path path;  // where it was read from
  TokenConfig token;
  std::map<std::string, KeyConfig> keys;
  DaemonConfig daemon;
  CatalogsConfig catalogs;
  PackagesConfig packages;
  std::filesystem::path spool_dir;
  std::filesystem::path audit_log = "/var/lib/catsign/audit.jsonl";

  // The key a command uses: `name` when given; else the only key; else [catalogs] key.
  // Error(usage) says which names exist when none fits.
  const KeyConfig& key(const std::optional<std::string>& name) const;
};

inline constexpr const char* kDefaultConfigPath = "/etc/catsign/catsign.toml";

// Error(usage), one line naming the file, line and key, when the file is missing or wrong.
Config load_config(const std::filesystem::path& path);
Config parse_config(std::string_view text, const std::filesystem::path& path);

}  // namespace catsign
