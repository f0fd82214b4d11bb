// SPDX-License-Identifier: Apache-2.0
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
  // The certificate's user ID ("Example catalogs <catalogs@example.org>"): keygen uses it when
  // --uid is not given, export rebuilds the certificate with it.
  std::string uid;
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
  std::chrono::seconds request_timeout{10};  // to send a whole request line, to take a reply
  unsigned max_connections = 256;            // open on the sign socket; the admin socket has a reserve
};

struct CatalogsConfig {
  std::filesystem::path root = "/srv/opencsw/mirror";
  std::vector<std::string> releases;
  std::vector<std::string> arches;
  std::vector<std::string> osrels;
  // The keys every catalog is signed with, one signature each (key rotation: old and new);
  // empty: the only key.
  std::vector<std::string> keys;
  std::string resign_form = "cleartext";
  bool require_package_signatures = false;
  std::filesystem::path package_keyring;
  std::uint64_t max_size = 256ull << 20;
};

struct PackagesConfig {
  std::filesystem::path root;
  std::vector<std::string> suffixes{".pkg.gz", ".pkg"};
  std::vector<std::string> keys;  // one signature per key, like [catalogs] key
};

// The three index formats a named repository can hold, told apart by the file its path template
// names (docs/DESIGN.md "Named repositories"): apt's Release, rpm's repodata/repomd.xml, a
// pacman <repo>.db.
enum class RepositoryFormat { apt, rpm, pacman };

const char* repository_format_name(RepositoryFormat format) noexcept;  // "apt"

// [repositories.<name>]: a package repository beside the OpenCSW catalogs. A request names one
// index as "<name>:<value>/<value>...", one value per part of `path`, in the order the
// template first names them.
struct RepositoryConfig {
  std::string name;                // the table name
  std::filesystem::path root;
  std::string path;                // the template, e.g. "dists/{suite}/Release"
  std::vector<std::string> parts;  // e.g. {"suite"}: each {part} once, in order of first use
  std::map<std::string, std::vector<std::string>> values;  // the allowed values of each part
  std::string key;                 // empty: the catalog key ([catalogs] key, or the only key)
  bool verify_listed_files = false;
  std::uint64_t max_size = 256ull << 20;
  RepositoryFormat format = RepositoryFormat::apt;
};

// The HTTPS front ([http], docs/DESIGN.md "HTTPS front"): off unless the section is there.
struct HttpConfig {
  bool enabled = false;                       // the section is present
  std::vector<std::string> listen;            // "192.0.2.10:9981", "[::1]:9981"; empty: socket activation only
  std::filesystem::path tls_certificate;      // PEM chain of the server
  std::filesystem::path tls_key;              // PEM private key of the server
  std::filesystem::path client_ca;            // set: only clients with a certificate from this CA
  std::vector<std::string> client_names;      // set: allowed subject CNs / DNS SANs of client certificates
  std::vector<std::string> allow;             // source address ranges, checked at accept; empty: loopback only
  bool tls = true;                            // plain HTTP only with an explicit tls = false
  unsigned max_connections = 256;             // open connections, per listener
};

struct Config {
  std::filesystem::path path;  // where it was read from
  TokenConfig token;
  std::map<std::string, KeyConfig> keys;
  DaemonConfig daemon;
  CatalogsConfig catalogs;
  PackagesConfig packages;
  std::map<std::string, RepositoryConfig> repositories;  // by name
  HttpConfig http;
  std::filesystem::path spool_dir;
  std::filesystem::path audit_log = "/var/lib/catsign/audit.jsonl";

  // The key a command uses: `name` when given; else the only key; else the first of
  // [catalogs] key. Error(usage) says which names exist when none fits.
  const KeyConfig& key(const std::optional<std::string>& name) const;
  // The keys a repository's indexes are signed with, one signature each: its own key, else
  // the catalog keys ([catalogs] key, several while a key is rotated, or the only key).
  std::vector<const KeyConfig*> repository_keys(const RepositoryConfig& repository) const;

  // The keys a command signs with, one signature each: `names` when given (--key a --key b);
  // else `configured` ([catalogs] key or [packages] key); else the only key, else the first of
  // [catalogs] key. Every name must be a [keys.NAME] section; Error(usage) otherwise.
  std::vector<const KeyConfig*> signing_keys(const std::vector<std::string>& names,
                                             const std::vector<std::string>& configured) const;
};

// The command that makes `key` on the token, for messages: "catsign keygen --config F --key K ...".
std::string keygen_command(const Config& config, const KeyConfig& key);
// Error(usage) naming the keygen command to run when the key's certificate file does not exist.
void require_certificate(const Config& config, const KeyConfig& key);

inline constexpr const char* kDefaultConfigPath = "/etc/catsign/catsign.toml";

// Error(usage), one line naming the file, line and key, when the file is missing or wrong.
Config load_config(const std::filesystem::path& path);
Config parse_config(std::string_view text, const std::filesystem::path& path);

}  // namespace catsign
