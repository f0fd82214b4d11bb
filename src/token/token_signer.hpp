// SPDX-License-Identifier: Apache-2.0
// The token's side of a signature: a pool of sessions on the token's slot, and the Signer
// that makes RSASSA-PKCS1-v1_5 signatures with C_Sign(CKM_RSA_PKCS) over the DigestInfo
// (RFC 8017 §8.2.1, §9.2), ECDSA signatures with CKM_ECDSA over the digest and Ed25519 ones
// with CKM_EDDSA over the digest. Internal to the token layer.
#pragma once

#include <p11-kit/pkcs11.h>

#include <mutex>
#include <string>
#include <vector>

#include "catsign/signer.hpp"
#include "catsign/token/key_lookup.hpp"

namespace catsign::token {

// Sessions for signing, reused across signatures. A session is used by one thread at a time
// (PKCS#11 v2.40 §5.6); the pool opens another when all are in use, so N threads signing at
// once hold N sessions and keep them for the next N signatures.
class SessionPool {
 public:
  SessionPool(CK_FUNCTION_LIST* fn, CK_SLOT_ID slot) : fn_(fn), slot_(slot) {}
  ~SessionPool();
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  CK_SESSION_HANDLE acquire(const std::string& token_label);
  // A session whose last call failed is closed rather than reused.
  void release(CK_SESSION_HANDLE session, bool healthy);
  CK_FUNCTION_LIST* fn() const noexcept { return fn_; }

 private:
  CK_FUNCTION_LIST* fn_;
  CK_SLOT_ID slot_;
  std::mutex mutex_;
  std::vector<CK_SESSION_HANDLE> idle_;
};

class TokenSigner final : public Signer {
 public:
  TokenSigner(SessionPool& pool, FoundKey key, std::string token_label)
      : pool_(pool), key_(std::move(key)), token_label_(std::move(token_label)) {}

  const FoundKey& key() const noexcept { return key_; }

  const PublicKeyMaterial& public_key() const override { return key_.public_key; }
  // Thread-safe: each call borrows its own session.
  Bytes sign_digest(HashAlgorithm hash, ByteView digest) override;

 private:
  SessionPool& pool_;
  FoundKey key_;
  std::string token_label_;
};

// A TokenSigner with a pool of its own, whose one session is opened at once: the session stays
// with this signer (and the thread that uses it) from the start.
class OwnSessionSigner final : public Signer {
 public:
  OwnSessionSigner(CK_FUNCTION_LIST* fn, CK_SLOT_ID slot, FoundKey key, const std::string& token_label);

  const PublicKeyMaterial& public_key() const override { return signer_.public_key(); }
  // For one thread at a time.
  Bytes sign_digest(HashAlgorithm hash, ByteView digest) override { return signer_.sign_digest(hash, digest); }

 private:
  SessionPool pool_;
  TokenSigner signer_;
};

}  // namespace catsign::token
