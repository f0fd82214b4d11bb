// SPDX-License-Identifier: Apache-2.0
// The daemon's only PKCS#11 context and the unlock window around it. Locked, nothing of the
// token is open and no copy of the PIN exists in the process. Unlocked, the token is logged in
// and the key is bound to its certificate until the window ends, `lock` is called, or a
// signature shows the token is gone or logged out. After any lock only a person unlocks.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <vector>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>

#include "catsign/config.hpp"
#include "catsign/openpgp/certificate.hpp"
#include "catsign/openpgp/signing.hpp"
#include "catsign/signing/pipeline.hpp"
#include "catsign/util/secure_string.hpp"

namespace catsign::daemon {

struct LockState {
  bool unlocked = false;
  std::chrono::system_clock::time_point since;      // of the current state
  std::chrono::system_clock::time_point expires;    // when unlocked
  std::string locked_reason;                        // when locked
};

class KeyHolder {
 public:
  using Clock = std::chrono::system_clock;

  // Reads the keys' certificates now, so a daemon with a broken configuration fails at start.
  // The first key signs catalogs; `others` (e.g. the package key) live on the same token and
  // are unlocked with it.
  KeyHolder(const Config& config, const KeyConfig& key, std::vector<const KeyConfig*> others = {});
  ~KeyHolder();

  // Opens the token, logs in under the login policy (an empty PIN uses the PIN pad), finds the
  // keys and binds them to their certificates, and opens `[token] sessions` PKCS#11 sessions,
  // each with a worker thread of its own that signs on it until the holder locks. Throws the domain error: refused (already
  // unlocked, a key that wants the PIN for every signature), pin_policy (PIN locked or on its
  // final try: never spent automatically), wrong_pin (one try spent), busy (a signature still
  // stuck on the token), token or token_gone. On any failure nothing stays open. Returns what
  // the person should hear about the keys (one that can also decrypt), also logged.
  std::vector<std::string> unlock(const SecureString& pin, std::chrono::seconds window);

  // Locks now. In-flight signatures finish on their own reference; the token is logged out and
  // the module finalised when the last of them lets go. Returns false when it was already
  // locked.
  bool lock(const std::string& reason);

  // Locks when the window has ended. Returns true when it did.
  bool expire_if_due(Clock::time_point now);

  // Completes a signature over what `hasher` was fed, on one of the configured sessions.
  // Throws Error(locked) when locked (saying since when and why), busy when no session frees
  // up in time, token on a token failure or a timeout (which locks); a token that is gone or
  // logged out locks the holder first and throws locked. A key whose certificate has expired
  // signs nothing (Error refused): clients would reject what it signs.
  // `key` names a configured key; empty is the catalog key.
  // `while_signing` is called on this thread while a session's worker signs: the digest and
  // the packet's fields are fixed by then (openpgp::PreparedSignature), so the caller
  // can put its audit record on disk while the token works. An exception from it withholds
  // the signature; it is rethrown once the token has answered.
  using WhileSigning = std::function<void(const openpgp::PreparedSignature&)>;
  openpgp::Signature sign(openpgp::DocumentHasher&& hasher, const openpgp::SignOptions& options,
                          const std::string& key = "", const WhileSigning& while_signing = {});

  LockState state() const;
  // Fixed for the daemon's life: a reload never changes which key a name stands for.
  const openpgp::Fingerprint& fingerprint(const std::string& key = "") const;
  // The certificate as last read (at start, or by reload_certificates).
  std::shared_ptr<const openpgp::Certificate> certificate(const std::string& key = "") const;
  // Reads every configured key's certificate again (a SIGHUP after `catsign extend`): a new
  // expiry takes effect for the next signature, and the unlock stays. Refuses (Error refused,
  // nothing changed) a certificate that now holds another key, or is revoked. Returns one line
  // per key whose expiry changed, for the log.
  std::vector<std::string> reload_certificates();
  // The configured keys, the catalog key first.
  std::vector<std::string> key_names() const;
  // How long until the configured key that expires first does (negative: expired), and its
  // name; nullopt when none of them expires. From the certificates as last read.
  struct KeyExpiry {
    std::string key;
    std::chrono::seconds left;
  };
  std::optional<KeyExpiry> soonest_key_expiry(Clock::time_point now) const;
  const KeyConfig& key_config() const noexcept { return key_; }
  bool has_key(const std::string& name) const noexcept { return fingerprints_.count(name) != 0; }

 private:
  struct Unlocked;
  struct Jobs;
  std::shared_ptr<Unlocked> current_or_throw();

  const Config& config_;
  const KeyConfig& key_;
  std::vector<const KeyConfig*> keys_;                      // the catalog key first
  std::map<std::string, openpgp::Fingerprint> fingerprints_;  // by key name, fixed at start
  mutable std::mutex certificates_mutex_;                      // guards certificates_
  std::map<std::string, std::shared_ptr<const openpgp::Certificate>> certificates_;  // by key name
  // Free sessions. Shared with the workers, which may outlive a timed-out request (and this
  // object) while a hung token keeps one of them.
  std::shared_ptr<std::counting_semaphore<64>> sessions_;

  mutable std::mutex mutex_;  // guards state_ and unlocked_; never held while the token works
  std::mutex unlock_mutex_;   // one unlock at a time
  LockState state_;
  std::shared_ptr<Unlocked> unlocked_;
};

// One configured key of a KeyHolder, as the signing pipeline sees it.
class HeldKeySigner final : public signing::DocumentSigner {
 public:
  // key: a configured name; empty: the catalog key. `while_signing` goes to KeyHolder::sign.
  HeldKeySigner(KeyHolder& holder, std::string key, KeyHolder::WhileSigning while_signing = {});
  openpgp::Signature sign_document(openpgp::DocumentHasher&& hasher, const openpgp::SignOptions& options) override;
  openpgp::Fingerprint fingerprint() const override;
  HashAlgorithm default_hash() const override;

 private:
  KeyHolder& holder_;
  std::string key_;
  KeyHolder::WhileSigning while_signing_;
};

// "locked for 2h 3m (unlock window ended): a person must run catsign unlock"
std::string describe_locked(const LockState& state, KeyHolder::Clock::time_point now);

}  // namespace catsign::daemon
