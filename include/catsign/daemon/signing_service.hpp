// SPDX-License-Identifier: Apache-2.0
// What the daemon does with a request, apart from how it arrived: SIGN, SIGNPKG, STATUS,
// UNLOCK and LOCK, each audited. Every entry point returns an Outcome and never throws, so a
// bad request can't take a front down; each front renders the Outcome its own way.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "catsign/catalog/beneath.hpp"
#include "catsign/config.hpp"
#include "catsign/daemon/audit_log.hpp"
#include "catsign/daemon/key_holder.hpp"
#include "catsign/daemon/outcome.hpp"
#include "catsign/daemon/protocol.hpp"
#include "catsign/openpgp/certificate.hpp"
#include "catsign/repository/target.hpp"
#include "catsign/util/secure_string.hpp"

namespace catsign::daemon {

struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  // Set by the HTTPS front instead of the credentials above: the peer's address and port, and
  // the subject of its verified client certificate (empty without one).
  std::string address;
  std::string certificate;
};

class SigningService {
 public:
  SigningService(std::shared_ptr<const Config> config, KeyHolder& catalog_key, AuditLog& audit);

  // Serves `next` from the next request on (a SIGHUP reload): catalog lists and roots, the
  // gate and its keyring, repositories, limits. Requests in flight finish on the
  // configuration they started with. Throws Error(usage) and changes nothing when `next` can't
  // be served (a root that does not open, a keyring that does not read).
  void reconfigure(std::shared_ptr<const Config> next);
  // STATUS shows why the last reload was refused, until one succeeds ("" then).
  void set_reload_error(const std::string& why);

  // SIGN: the tuple must be configured, its catalog a regular file beneath the root; it is
  // read once through the signing pipeline, which gives the SHA-256 the client named and the
  // signature from the same pass.
  Outcome sign(const Request& request, const Peer& peer);
  // SIGNPKG: a detached signature with the package key for a file beneath [packages] root
  // with a configured suffix, under the same path rules as catalogs.
  Outcome sign_package(const Request& request, const Peer& peer);
  // SIGN or SIGNPKG, for callers that are not sockets (the spool).
  Outcome handle(const Request& request, const Peer& peer);
  std::string status() const;  // the STATUS JSON object
  Outcome unlock(const SecureString& pin, const Peer& peer);
  Outcome lock(const std::string& reason, const Peer& peer);

  // Locks when the window has ended; audits it. Returns true when it did.
  bool expire_if_due();

  // The catalog keys' fingerprints joined by commas, as audit records name them, and
  // "FPR (name), FPR (name)" for the log.
  std::string catalog_fingerprints() const;
  std::string catalog_keys_described() const;

  // Any refusal before a request is parsed (denied peer, malformed line) is audited too.
  void audit_refusal(const Peer& peer, const Error& e, const std::string& request);

 private:
  // What a request is served from: one configuration and what was opened and read for it.
  struct Settings {
    explicit Settings(std::shared_ptr<const Config> config);
    std::shared_ptr<const Config> config;
    catalog::Root root;
    std::unique_ptr<catalog::Root> packages_root;                             // when [packages] root is set
    std::map<std::string, std::unique_ptr<catalog::Root>> repository_roots;  // by [repositories.NAME]
    std::vector<openpgp::Certificate> keyring;                                // when the gate is on
    // The keys every catalog and every package is signed with, one signature each, by their
    // [keys.NAME] names: [catalogs] key (several while a key is rotated, else the only key)
    // and [packages] key.
    std::vector<std::string> catalog_keys;
    std::vector<std::string> package_keys;
  };
  std::shared_ptr<const Settings> settings() const;

  signing::Facts sign_catalog(const Settings& s, const Request& request, signing::StringWriter& out,
                              nlohmann::json& record);
  signing::Facts sign_package_file(const Settings& s, const Request& request, signing::StringWriter& out,
                                   nlohmann::json& record);
  // SIGN NAME:value/...: a [repositories.NAME] index, under the same rules as catalogs, with
  // the repository's key and, when configured, its listed-files check.
  signing::Facts sign_index(const Settings& s, const Request& request, signing::StringWriter& out,
                            nlohmann::json& record);
  // verify_listed_files (docs/DESIGN.md "Listed files"): throws Error(index_mismatch) naming
  // the first failures when what the index lists is not what is on disk.
  void check_listed_files(const Settings& s, const repository::Target& target, const std::string& text,
                          nlohmann::json& record);
  // Runs `produce`, audits the record, and returns what the client may hear: the signature
  // only once its record is on disk.
  template <typename Produce>
  Outcome audited(nlohmann::json& record, const std::string& what, const Peer& peer, Produce&& produce);
  Outcome refuse(const Error& e, nlohmann::json& record);
  void set_last_error(const std::string& e);
  void require_unlocked();

  // The package gate (docs/DESIGN.md "Package gate"): throws Error(packages_unsigned) naming
  // the first failures when a package the catalog lists is missing, altered or unsigned.
  void check_gate(const Settings& s, const std::string& catalog_text, const std::string& tuple,
                  nlohmann::json& record);
  // Writes and fsyncs the "signing" record (the request's facts, the key, the digest the token
  // signs) while the token signs; notes the digest in `record`.
  KeyHolder::WhileSigning audit_while_signing(nlohmann::json& record, const std::string& key);

  // One signer per key, in order (the catalog keys: several while a key is rotated), each
  // writing its own "signing" record into the audit log while the token signs.
  struct HeldKeySigners {
    std::vector<std::unique_ptr<HeldKeySigner>> held;
    std::vector<signing::DocumentSigner*> each;
  };
  HeldKeySigners held_signers(const std::vector<std::string>& keys, nlohmann::json& record);

  KeyHolder& key_;
  AuditLog& audit_;
  mutable std::mutex settings_mutex_;  // guards settings_, never held while a request runs
  std::shared_ptr<const Settings> settings_;
  std::string reload_error_;           // guarded by last_error_mutex_
  std::atomic<std::uint64_t> signatures_{0};
  // For monitoring (STATUS "signatures_by_result", "last_signature_time"): SIGN and SIGNPKG
  // answers by result, "ok" or the refusal's error name ("locked", "hash_mismatch", ...).
  void count_result(const std::string& result);
  mutable std::mutex results_mutex_;
  std::map<std::string, std::uint64_t> results_;
  std::atomic<std::int64_t> last_signature_time_{0};  // Unix seconds; 0: none since start
  mutable std::mutex last_error_mutex_;
  std::string last_error_;
};

}  // namespace catsign::daemon
