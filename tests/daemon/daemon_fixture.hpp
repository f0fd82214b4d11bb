// SPDX-License-Identifier: Apache-2.0
// A running catsignd for tests: a throwaway SoftHSM token with a distinctive PIN, a key made
// by `catsign keygen`, a small OpenCSW-style mirror, a config, and the daemon as a child
// process. Helpers speak the raw socket protocol or run the catsign CLI against it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../support/process.hpp"

namespace catsign::testing {

struct DaemonOptions {
  std::string unlock_window = "1h";
  std::string warn_before = "24h";
  unsigned sessions = 1;
  std::string request_timeout = "10s";
  unsigned max_connections = 256;
  std::string extra_config{};  // appended verbatim (e.g. a [daemon] key is not allowed twice)
  std::string sign_uids{};   // TOML array for [daemon] sign_uids, e.g. "[65534]"; empty: not written
  std::string sign_gids{};   // TOML array for [daemon] sign_gids; empty: not written
  std::string admin_uids{};  // TOML array for [daemon] admin_uids; empty: not written
  // The daemon's [token] module; empty: SoftHSM. The token and its key are always made
  // through SoftHSM directly; only the running daemon loads this module.
  std::string module{};
  std::map<std::string, std::string> env{};  // added to the daemon's environment
  std::string sign_timeout{};              // [token] sign_timeout; empty: not written
  std::uint64_t max_size = 0;              // [catalogs] max_size; 0: not written
  // A second key, "package", on the same token, for SIGNPKG; packages live under mirror/.
  bool package_key = false;
  // The package gate, with the package key's certificate as the keyring (needs package_key).
  bool require_package_signatures = false;
  // Instead of the fixture's own config: packaging/catsign.toml.example as installed, with
  // only its paths moved into the fixture's folder and the module set to SoftHSM. Only the
  // catalog key is made (keys/catalog-2026.asc).
  bool example_config = false;
  // JOURNAL_STREAM for the daemon: "stderr" names its stderr (the log file) as journald's
  // stream would, "other" names a device and inode that are not its stderr's; empty: unset.
  std::string journal_stream{};
  // keygen's key type for both keys (--algo), and the catalog key's --expires (empty: never).
  std::string algo = "rsa2048";
  std::string key_expires{};
  std::string expiry_command{};  // [daemon] expiry_command; empty: not written
  // A second catalog key, "catalog-next" (keys/catalog-next.asc), on the same token:
  // [catalogs] key = ["catalog", "catalog-next"], so each catalog gets two signatures.
  bool second_catalog_key = false;
  // Runs the daemon as this uid (and the same-numbered gid), its folder given to it: for
  // p11-kit, which reads a user's module configuration only when not root.
  std::optional<uid_t> run_as{};
};

// A parsed reply: "OK <n>\n<payload>" or "ERR <CODE> <message>\n". `code` is "OK" for OK.
struct Reply {
  std::string code;
  std::string payload;  // OK: the payload; ERR: the message
  bool closed_without_reply = false;
};

// Gives a folder and everything in it to `uid` (and the same-numbered gid).
void chown_tree(const std::filesystem::path& root, uid_t uid);

class DaemonFixture {
 public:
  // Distinctive, so a scan of the daemon's memory cannot find it by coincidence.
  static constexpr const char* kPin = "8391725460";

  explicit DaemonFixture(DaemonOptions options = {});
  ~DaemonFixture();
  DaemonFixture(const DaemonFixture&) = delete;
  DaemonFixture& operator=(const DaemonFixture&) = delete;

  void start();
  void stop();  // SIGTERM and wait
  // The wait status of the daemon that stop() stopped (-1: it had to be killed, or none yet).
  int exit_status() const noexcept { return exit_status_; }
  // Sends `sig` and waits up to `timeout_s` for the daemon to end; its wait status, or -1
  // when it is still running (it is then left running).
  int signal_and_wait(int sig, int timeout_s = 20);
  pid_t pid() const noexcept { return pid_; }
  bool running();

  const std::filesystem::path& dir() const noexcept { return dir_.path(); }
  std::filesystem::path root() const { return dir() / "mirror"; }
  std::filesystem::path config() const { return dir() / "catsign.toml"; }
  std::filesystem::path cert() const { return dir() / "keys/catalog.asc"; }
  std::filesystem::path package_cert() const { return dir() / "keys/package.asc"; }
  std::filesystem::path next_cert() const { return dir() / "keys/catalog-next.asc"; }
  std::filesystem::path audit_log() const { return dir() / "state/audit.jsonl"; }
  std::filesystem::path sign_socket() const { return dir() / "run/sign.sock"; }
  std::filesystem::path admin_socket() const { return dir() / "run/admin.sock"; }
  std::filesystem::path token_dir() const { return dir() / "softhsm/tokens"; }
  std::string softhsm_conf() const { return (dir() / "softhsm/softhsm2.conf").string(); }
  std::string log() const;

  // The configured tuples; each has a catalog made from the real OpenCSW data.
  static std::vector<std::string> tuples();
  std::string sha256_of(const std::string& tuple) const;
  std::filesystem::path catalog(const std::string& tuple) const { return root() / tuple / "catalog"; }

  // Sends `bytes` on a fresh connection and reads one reply (timeout in seconds).
  Reply raw(const std::string& bytes, bool admin = false, int timeout_s = 30) const;
  Reply sign(const std::string& tuple, const std::string& options = "") const;
  Reply unlock(const std::string& pin = kPin) const { return raw("UNLOCK\n" + pin + "\n", true); }
  Reply lock(const std::string& reason = "test") const { return raw("LOCK " + reason + "\n", true); }
  std::string status() const;  // the STATUS JSON

  // Runs the catsign CLI with SOFTHSM2_CONF set; `pin` goes to fd 3.
  RunResult catsign(const std::vector<std::string>& args, const std::string* pin = nullptr) const;

 private:
  DaemonOptions options_;
  TempDir dir_;
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

// Checks `signature`, a catalog signature the daemon returned for `tuple`, with real clients:
// gpg (a good signature, and the catalog@catsign notation naming `tuple`), then sqv for a
// detached signature or sq for a cleartext one. Failures are gtest failures.
void expect_clients_verify(const DaemonFixture& d, const std::string& tuple, const std::string& signature,
                           bool cleartext);

}  // namespace catsign::testing
