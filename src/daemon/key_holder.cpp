// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/key_holder.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <optional>
#include <thread>

#include "catsign/openpgp/certificate_file.hpp"
#include "catsign/token/pkcs11_module.hpp"
#include "catsign/token/token.hpp"
#include "catsign/openpgp/certificate.hpp"
#include "catsign/util/duration.hpp"

namespace catsign::daemon {

namespace {

// How long a request waits for a free token session before it is told BUSY.
constexpr std::chrono::seconds kSessionWait{30};

using Steady = std::chrono::steady_clock;

// A worker's answer to one request: the signature or what went wrong.
class SignResult {
 public:
  void deliver(std::optional<openpgp::Signature> signature, std::exception_ptr error) {
    {
      std::lock_guard lock(mutex_);
      signature_ = std::move(signature);
      error_ = std::move(error);
      done_ = true;
    }
    cv_.notify_one();
  }
  // False when the worker has not answered by `deadline`.
  bool wait_until(Steady::time_point deadline) {
    std::unique_lock lock(mutex_);
    return cv_.wait_until(lock, deadline, [&] { return done_; });
  }
  // After wait_until returned true: the signature, or the worker's exception rethrown.
  openpgp::Signature take() {
    std::lock_guard lock(mutex_);
    if (error_) std::rethrow_exception(error_);
    return std::move(*signature_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::optional<openpgp::Signature> signature_;
  std::exception_ptr error_;
};

}  // namespace

// The requests waiting for a session's worker. Every unlock has its own queue and workers.
struct KeyHolder::Jobs {
  struct Job {
    std::shared_ptr<Unlocked> unlocked;  // keeps the context alive while the token works
    std::string key;
    openpgp::PreparedSignature prepared;
    std::shared_ptr<SignResult> result;
  };

  void post(Job job) {
    {
      std::lock_guard lock(mutex);
      queue.push_back(std::move(job));
    }
    cv.notify_one();
  }
  // The next job; nullopt once the queue is closed and empty.
  std::optional<Job> take() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return closed || !queue.empty(); });
    if (queue.empty()) return std::nullopt;
    Job job = std::move(queue.front());
    queue.pop_front();
    return job;
  }
  void close() {
    {
      std::lock_guard lock(mutex);
      closed = true;
    }
    cv.notify_all();
  }

  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Job> queue;
  bool closed = false;
};

struct KeyHolder::Unlocked {
  explicit Unlocked(token::Token t) : token(std::move(t)), jobs(std::make_shared<Jobs>()) {}
  Unlocked(const Unlocked&) = delete;
  Unlocked& operator=(const Unlocked&) = delete;

  // One per worker: a PKCS#11 session of its own for each key, and the keys bound to them.
  // The keys are declared last, so they go before the Signers they use.
  struct Session {
    std::vector<std::unique_ptr<Signer>> signers;
    std::map<std::string, std::unique_ptr<openpgp::OpenPgpKey>> keys;  // by key name
  };

  token::Token token;
  std::vector<Session> sessions;
  std::shared_ptr<Jobs> jobs;

  ~Unlocked() {
    // Every job holds a reference to this, so none is queued or running now: the workers are
    // idle and leave. Their sessions close first; then the Token's destructor closes its own
    // sessions, logs out and finalises the module.
    jobs->close();
    sessions.clear();
  }

  // A worker: takes requests and signs them on session `index` until the queue closes. It
  // never joins anyone and is never joined, so a hung token costs one thread, not the daemon.
  static void work(std::shared_ptr<Jobs> jobs, std::size_t index,
                   std::shared_ptr<std::counting_semaphore<64>> free_sessions) {
    while (std::optional<Jobs::Job> job = jobs->take()) {
      std::optional<openpgp::Signature> signature;
      std::exception_ptr error;
      try {
        signature = job->unlocked->sessions.at(index).keys.at(job->key)->complete(std::move(job->prepared));
      } catch (...) {
        error = std::current_exception();
      }
      // Let go of the context before the waiting request hears anything: if the request then
      // locks, it holds the last reference and tears the token down before it replies, so a
      // person's UNLOCK right after finds the module free.
      job->unlocked.reset();
      free_sessions->release();
      job->result->deliver(std::move(signature), std::move(error));
    }
  }
};

std::string describe_locked(const LockState& state, KeyHolder::Clock::time_point now) {
  auto for_how_long = std::chrono::duration_cast<std::chrono::seconds>(now - state.since);
  return "locked for " + format_duration(for_how_long) + " (" +
         (state.locked_reason.empty() ? std::string("not unlocked since start") : state.locked_reason) +
         "): a person must run catsign unlock";
}

KeyHolder::KeyHolder(const Config& config, const KeyConfig& key, std::vector<const KeyConfig*> others)
    : config_(config),
      key_(key),
      sessions_(std::make_shared<std::counting_semaphore<64>>(static_cast<std::ptrdiff_t>(config.token.sessions))) {
  keys_.push_back(&key);
  for (const KeyConfig* k : others)
    if (k->name != key.name) keys_.push_back(k);
  // A configured key whose certificate was never made (the example config's package key,
  // before `catsign keygen --key package`) turns signing with that key off rather than
  // keeping the daemon from serving catalogs; the catalog key itself must exist.
  std::erase_if(keys_, [&](const KeyConfig* k) {
    if (k == &key_) {
      require_certificate(config, *k);
      return false;
    }
    try {
      require_certificate(config, *k);
      return false;
    } catch (const Error& e) {
      spdlog::warn("{}; signing with it is off until then (restart catsignd after keygen)", e.what());
      return true;
    }
  });
  for (const KeyConfig* k : keys_) {
    openpgp::Certificate cert = openpgp::read_certificate_file(k->certificate);
    if (cert.revoked())
      throw Error(Errc::usage, "certificate " + k->certificate.string() + " (" +
                                   openpgp::format_fingerprint(cert.fingerprint) +
                                   ") is revoked: configure the new key's certificate");
    fingerprints_.emplace(k->name, cert.fingerprint);
    certificates_.emplace(k->name, std::make_shared<const openpgp::Certificate>(std::move(cert)));
  }
  state_.since = Clock::now();
  state_.locked_reason = "not unlocked since start";
}

KeyHolder::~KeyHolder() = default;

std::vector<std::string> KeyHolder::unlock(const SecureString& pin, std::chrono::seconds window) {
  std::lock_guard one_at_a_time(unlock_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (state_.unlocked)
      // A token reports success for a login while logged in, so a second unlock could never
      // check the PIN it was given.
      throw Error(Errc::refused, "already unlocked, " +
                                                format_duration(std::chrono::duration_cast<std::chrono::seconds>(
                                                    state_.expires - Clock::now())) +
                                                " left: run catsign lock first to start a new window");
  }
  std::shared_ptr<Unlocked> u;
  try {
    u = std::make_shared<Unlocked>(token::Token::open(config_.token.module, key_.uri));
  } catch (const Error& e) {
    if (e.code() == Errc::internal)  // the module is still held by a signature stuck on the token
      throw Error(Errc::busy, "a previous signature is still stuck on the token: unlock again when it "
                                          "returns, or re-plug the token");
    throw;
  }
  // The login policy (token/login_policy.hpp) refuses a locked PIN, the last try and an empty
  // PIN without a PIN pad before C_Login, in the same words as the one-shot commands.
  u->token.login(pin);
  // `[token] sessions` sessions, each with a worker of its own that signs on it until the
  // holder locks: no thread and no session is set up per signature.
  const std::size_t sessions = config_.token.sessions;
  u->sessions.resize(sessions);
  std::vector<std::string> warnings;
  for (Unlocked::Session& session : u->sessions) {
    for (const KeyConfig* k : keys_) {
      try {
        const token::Pkcs11Uri uri = token::Pkcs11Uri::parse(k->uri);
        session.signers.push_back(u->token.open_session_signer(uri));
        session.keys[k->name] =
            std::make_unique<openpgp::OpenPgpKey>(*session.signers.back(), certificate(k->name)->key);
        if (&session == &u->sessions.front())
          for (const std::string& w : u->token.key_warnings(uri)) {
            spdlog::warn("key '{}': {}", k->name, w);
            warnings.push_back("key '" + k->name + "': " + w);
          }
      } catch (const Error& e) {
        // A key the daemon can't use is a refusal of this unlock, whatever the token said.
        throw Error(e.code() == Errc::token_gone || e.code() == Errc::token ? e.code() : Errc::refused,
                    "key '" + k->name + "': " + e.what());
      }
    }
  }
  for (std::size_t i = 0; i < sessions; ++i) std::thread(&Unlocked::work, u->jobs, i, sessions_).detach();
  std::lock_guard lock(mutex_);
  unlocked_ = std::move(u);
  state_.unlocked = true;
  state_.since = Clock::now();
  state_.expires = state_.since + window;
  state_.locked_reason.clear();
  return warnings;
}

bool KeyHolder::lock(const std::string& reason) {
  std::shared_ptr<Unlocked> dropped;
  {
    std::lock_guard lock(mutex_);
    if (!state_.unlocked) return false;
    dropped = std::move(unlocked_);
    state_.unlocked = false;
    state_.since = Clock::now();
    state_.locked_reason = reason;
  }
  // `dropped` goes out of scope here, outside the mutex: unless a signature is still in
  // flight, this tears the context down now.
  return true;
}

bool KeyHolder::expire_if_due(Clock::time_point now) {
  {
    std::lock_guard lock(mutex_);
    if (!state_.unlocked || now < state_.expires) return false;
  }
  return lock("unlock window ended");
}

std::shared_ptr<KeyHolder::Unlocked> KeyHolder::current_or_throw() {
  auto now = Clock::now();
  expire_if_due(now);
  std::lock_guard lock(mutex_);
  if (!state_.unlocked) throw Error(Errc::locked, describe_locked(state_, now));
  return unlocked_;
}

const openpgp::Fingerprint& KeyHolder::fingerprint(const std::string& key) const {
  auto it = fingerprints_.find(key.empty() ? key_.name : key);
  if (it == fingerprints_.end()) throw Error(Errc::internal, "no key '" + key + "' in the key holder");
  return it->second;
}

std::shared_ptr<const openpgp::Certificate> KeyHolder::certificate(const std::string& key) const {
  std::lock_guard lock(certificates_mutex_);
  auto it = certificates_.find(key.empty() ? key_.name : key);
  if (it == certificates_.end()) throw Error(Errc::internal, "no key '" + key + "' in the key holder");
  return it->second;
}

std::vector<std::string> KeyHolder::reload_certificates() {
  std::map<std::string, std::shared_ptr<const openpgp::Certificate>> next;
  std::vector<std::string> changed;
  for (const KeyConfig* k : keys_) {
    openpgp::Certificate cert = openpgp::read_certificate_file(k->certificate);
    const openpgp::Fingerprint& was = fingerprints_.at(k->name);
    // The key on the token was bound to this fingerprint at unlock; another key is a new
    // signer, which only a restart (and a person's unlock) may bring in.
    if (cert.fingerprint != was)
      throw Error(Errc::refused, "certificate " + k->certificate.string() + " of key '" + k->name + "' now holds key " +
                                     openpgp::format_fingerprint(cert.fingerprint) + ", not " +
                                     openpgp::format_fingerprint(was) + ": restart catsignd to sign with another key");
    if (cert.revoked())
      throw Error(Errc::refused, "certificate " + k->certificate.string() + " of key '" + k->name +
                                     "' is now revoked: restart catsignd with the new key's certificate");
    const auto before = certificate(k->name)->expires_at();
    const auto after = cert.expires_at();
    if (before != after)
      changed.push_back("key '" + k->name + "' " +
                        (after ? "now expires " + format_utc(*after) : std::string("now never expires")));
    next.emplace(k->name, std::make_shared<const openpgp::Certificate>(std::move(cert)));
  }
  std::lock_guard lock(certificates_mutex_);
  certificates_ = std::move(next);
  return changed;
}

openpgp::Signature KeyHolder::sign(openpgp::DocumentHasher&& hasher, const openpgp::SignOptions& options,
                                   const std::string& key, const WhileSigning& while_signing) {
  const std::string name = key.empty() ? key_.name : key;
  if (!has_key(name)) throw Error(Errc::refused, "key '" + name + "' is not configured");
  const std::shared_ptr<const openpgp::Certificate> cert = certificate(name);
  // The signature's creation time is fixed here, and the expiry judged against that very
  // time: a signature dated at or after the key's expiry is one clients reject (RFC 4880
  // §5.2.3.6).
  openpgp::SignOptions dated = options;
  if (dated.creation_time == 0) dated.creation_time = static_cast<std::uint32_t>(Clock::to_time_t(Clock::now()));
  if (auto expires = cert->expires_at(); expires && std::uint64_t{dated.creation_time} >= *expires)
    throw Error(Errc::refused, "key '" + name + "' (" + openpgp::format_fingerprint(cert->fingerprint) +
                                   ") has expired: nothing was signed; run catsign extend --key " + name +
                                   " --expires DURATION, then systemctl reload catsignd (or send it SIGHUP)");
  // Prepared before a session is taken: a hash too short for the key is refused here, and
  // nothing waits for a session it never uses.
  openpgp::PreparedSignature prepared =
      openpgp::prepare_document_signature(cert->key, std::move(hasher), dated);
  std::shared_ptr<Unlocked> u = current_or_throw();
  if (!sessions_->try_acquire_for(kSessionWait))
    throw Error(Errc::busy, "all token sessions stayed busy for 30s: try again later");
  std::optional<openpgp::PreparedSignature> shown;
  if (while_signing) shown = prepared;
  // A worker keeps its session and its reference to the context until the token answers,
  // whenever that is; this request waits for it at most sign_timeout, so a hung token costs
  // the caller a timeout, not forever.
  auto result = std::make_shared<SignResult>();
  const Steady::time_point deadline = Steady::now() + config_.token.sign_timeout;
  u->jobs->post({u, name, std::move(prepared), result});
  std::exception_ptr while_error;
  if (while_signing) {
    try {
      while_signing(*shown);
    } catch (...) {
      while_error = std::current_exception();
    }
  }
  if (!result->wait_until(deadline)) {
    std::string seconds = format_duration(config_.token.sign_timeout);
    lock("the token did not answer a signature request within " + seconds);
    throw Error(Errc::token, "the token did not answer within " + seconds +
                                 "; catsignd is locked: check the token, then run catsign unlock");
  }
  openpgp::Signature signature = [&] {
    try {
      return result->take();
    } catch (const token::TokenError& e) {
      if (e.token_gone()) {
        lock("token removed or logged out (" + token::describe_rv(e.rv()) + ")");
        throw Error(Errc::locked, std::string("the token is gone or logged out: ") + e.what() +
                                      "; a person must reinsert it and run catsign unlock");
      }
      throw;
    }
  }();
  if (while_error) std::rethrow_exception(while_error);
  return signature;
}

std::vector<std::string> KeyHolder::key_names() const {
  std::vector<std::string> names;
  for (const KeyConfig* k : keys_) names.push_back(k->name);
  return names;
}

std::optional<KeyHolder::KeyExpiry> KeyHolder::soonest_key_expiry(Clock::time_point now) const {
  std::optional<KeyExpiry> soonest;
  const auto now_s = static_cast<long long>(Clock::to_time_t(now));
  for (const KeyConfig* k : keys_) {
    auto expires = certificate(k->name)->expires_at();
    if (!expires) continue;
    std::chrono::seconds left(static_cast<long long>(*expires) - now_s);
    if (!soonest || left < soonest->left) soonest = KeyExpiry{k->name, left};
  }
  return soonest;
}

HeldKeySigner::HeldKeySigner(KeyHolder& holder, std::string key, KeyHolder::WhileSigning while_signing)
    : holder_(holder), key_(std::move(key)), while_signing_(std::move(while_signing)) {}

openpgp::Signature HeldKeySigner::sign_document(openpgp::DocumentHasher&& hasher, const openpgp::SignOptions& options) {
  return holder_.sign(std::move(hasher), options, key_, while_signing_);
}

openpgp::Fingerprint HeldKeySigner::fingerprint() const { return holder_.fingerprint(key_); }

HashAlgorithm HeldKeySigner::default_hash() const {
  return catsign::default_hash(holder_.certificate(key_)->key.material.algorithm);
}

LockState KeyHolder::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

}  // namespace catsign::daemon
