// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/key_holder.hpp"

#include <spdlog/spdlog.h>

#include <future>
#include <thread>

#include "catsign/openpgp/certificate_file.hpp"
#include "catsign/token/pkcs11_module.hpp"
#include "catsign/token/token.hpp"
#include "catsign/openpgp/certificate.hpp"
#include "catsign/util/duration.hpp"

namespace catsign::daemon {

struct KeyHolder::Unlocked {
  explicit Unlocked(token::Token t) : token(std::move(t)) {}
  Unlocked(const Unlocked&) = delete;
  Unlocked& operator=(const Unlocked&) = delete;

  token::Token token;
  std::map<std::string, std::unique_ptr<openpgp::OpenPgpKey>> keys;  // by key name

  ~Unlocked() {
    // Free the key bindings first (they refer to the Token's signers); the Token's destructor
    // then closes its sessions, logs out and finalises the module.
    keys.clear();
  }
};

namespace {

// How long a request waits for a free token session before it is told BUSY.
constexpr std::chrono::seconds kSessionWait{30};

}  // namespace

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
    certificates_.emplace(k->name, std::move(cert));
  }
  state_.since = Clock::now();
  state_.locked_reason = "not unlocked since start";
}

KeyHolder::~KeyHolder() = default;

void KeyHolder::unlock(const SecureString& pin, std::chrono::seconds window) {
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
  for (const KeyConfig* k : keys_) {
    try {
      u->keys[k->name] = std::make_unique<openpgp::OpenPgpKey>(u->token.signer(token::Pkcs11Uri::parse(k->uri)),
                                                                certificates_.at(k->name).key);
    } catch (const Error& e) {
      // A key the daemon can't use is a refusal of this unlock, whatever the token said.
      throw Error(e.code() == Errc::token_gone || e.code() == Errc::token ? e.code() : Errc::refused,
                  "key '" + k->name + "': " + e.what());
    }
  }
  std::lock_guard lock(mutex_);
  unlocked_ = std::move(u);
  state_.unlocked = true;
  state_.since = Clock::now();
  state_.expires = state_.since + window;
  state_.locked_reason.clear();
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
  auto it = certificates_.find(key.empty() ? key_.name : key);
  if (it == certificates_.end()) throw Error(Errc::internal, "no key '" + key + "' in the key holder");
  return it->second.fingerprint;
}

openpgp::Signature KeyHolder::sign(openpgp::DocumentHasher&& hasher, const openpgp::SignOptions& options,
                                   const std::string& key) {
  const std::string name = key.empty() ? key_.name : key;
  if (!certificates_.count(name)) throw Error(Errc::refused, "key '" + name + "' is not configured");
  std::shared_ptr<Unlocked> u = current_or_throw();
  if (!sessions_->try_acquire_for(kSessionWait))
    throw Error(Errc::busy, "all token sessions stayed busy for 30s: try again later");
  // The token call runs on its own thread so that a hung token costs the caller a timeout,
  // not forever. The thread keeps its session and its reference to the context until the
  // token answers, whenever that is; only then is the session free again.
  auto result = std::make_shared<std::promise<openpgp::Signature>>();
  std::future<openpgp::Signature> future = result->get_future();
  std::thread([sessions = sessions_, u, name, result, hasher = std::move(hasher), options]() mutable {
    std::optional<openpgp::Signature> signature;
    std::exception_ptr error;
    try {
      signature = u->keys.at(name)->sign_document(std::move(hasher), options);
    } catch (...) {
      error = std::current_exception();
    }
    // Let go of the context before the waiting request hears anything: if the request then
    // locks, it holds the last reference and tears the token down before it replies, so a
    // person's UNLOCK right after finds the module free.
    u.reset();
    sessions->release();
    if (error) {
      result->set_exception(error);
    } else {
      result->set_value(std::move(*signature));
    }
  }).detach();
  if (future.wait_for(config_.token.sign_timeout) == std::future_status::timeout) {
    std::string seconds = format_duration(config_.token.sign_timeout);
    lock("the token did not answer a signature request within " + seconds);
    throw Error(Errc::token, "the token did not answer within " + seconds +
                                 "; catsignd is locked: check the token, then run catsign unlock");
  }
  try {
    return future.get();
  } catch (const token::TokenError& e) {
    if (e.token_gone()) {
      lock("token removed or logged out (" + token::describe_rv(e.rv()) + ")");
      throw Error(Errc::locked, std::string("the token is gone or logged out: ") + e.what() +
                                    "; a person must reinsert it and run catsign unlock");
    }
    throw;
  }
}

HeldKeySigner::HeldKeySigner(KeyHolder& holder, std::string key) : holder_(holder), key_(std::move(key)) {}

openpgp::Signature HeldKeySigner::sign_document(openpgp::DocumentHasher&& hasher, const openpgp::SignOptions& options) {
  return holder_.sign(std::move(hasher), options, key_);
}

openpgp::Fingerprint HeldKeySigner::fingerprint() const { return holder_.fingerprint(key_); }

LockState KeyHolder::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

}  // namespace catsign::daemon
