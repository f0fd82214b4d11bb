// SPDX-License-Identifier: Apache-2.0
#include "token_signer.hpp"

#include "catsign/error.hpp"
#include "catsign/token/pkcs11_module.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::token {

namespace {

// The DER prefix of DigestInfo for each hash (RFC 8017 §9.2, note 1); the digest follows.
ByteView digest_info_prefix(HashAlgorithm hash) {
  static constexpr std::uint8_t kSha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                             0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
  static constexpr std::uint8_t kSha384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                             0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
  static constexpr std::uint8_t kSha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                             0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};
  switch (hash) {
    case HashAlgorithm::sha256: return kSha256;
    case HashAlgorithm::sha384: return kSha384;
    case HashAlgorithm::sha512: return kSha512;
  }
  throw Error(Errc::internal, "no DigestInfo for this hash");
}

}  // namespace

SessionPool::~SessionPool() {
  for (CK_SESSION_HANDLE s : idle_) fn_->C_CloseSession(s);
}

CK_SESSION_HANDLE SessionPool::acquire(const std::string& token_label) {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      CK_SESSION_HANDLE s = idle_.back();
      idle_.pop_back();
      return s;
    }
  }
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  CK_RV rv = fn_->C_OpenSession(slot_, CKF_SERIAL_SESSION, nullptr, nullptr, &s);
  if (rv != CKR_OK) throw TokenError(rv, token_failure(rv, "opening a session", token_label));
  return s;
}

void SessionPool::release(CK_SESSION_HANDLE session, bool healthy) {
  if (!healthy) {
    fn_->C_CloseSession(session);
    return;
  }
  std::lock_guard lock(mutex_);
  idle_.push_back(session);
}

OwnSessionSigner::OwnSessionSigner(CK_FUNCTION_LIST* fn, CK_SLOT_ID slot, FoundKey key, const std::string& token_label)
    : pool_(fn, slot), signer_(pool_, std::move(key), token_label) {
  pool_.release(pool_.acquire(token_label), true);
}

Bytes TokenSigner::sign_digest(HashAlgorithm hash, ByteView digest) {
  if (digest.size() != hash_size(hash))
    throw Error(Errc::internal, "sign_digest: a " + std::string(hash_name(hash)) + " digest has " +
                                    std::to_string(hash_size(hash)) + " bytes, not " + std::to_string(digest.size()));
  const PublicKeyMaterial& pub = key_.public_key;
  Bytes input;
  CK_MECHANISM mechanism{CKM_RSA_PKCS, nullptr, 0};
  std::size_t expected = 0;
  switch (pub.algorithm) {
    case KeyAlgorithm::rsa:
      // CKM_RSA_PKCS pads what it is given (PKCS#11 v2.40 §2.1.6): the caller supplies the
      // DigestInfo, so the token never needs to know the hash. RFC 8017 §8.2.1: the signature
      // is exactly k octets, k the modulus length. tpm2-pkcs11 takes it as well (its RSA keys
      // all carry the TPM's decrypt attribute, key_usage.hpp).
      input.assign(digest_info_prefix(hash).begin(), digest_info_prefix(hash).end());
      expected = pub.rsa.n.size();
      break;
    case KeyAlgorithm::nist_p256:
    case KeyAlgorithm::nist_p384:
      // CKM_ECDSA signs the hash it is given and returns r || s (PKCS#11 v2.40 §2.3.1).
      mechanism.mechanism = CKM_ECDSA;
      expected = 2 * ec_scalar_size(pub.algorithm);
      break;
    case KeyAlgorithm::ed25519:
      // CKM_EDDSA without parameters is PureEdDSA over its input (PKCS#11 v3.0 §2.3.14); for
      // OpenPGP that input is the digest (RFC 9580 §5.2.4). The result is R || S.
      mechanism.mechanism = CKM_EDDSA;
      expected = 64;
      break;
  }
  put_bytes(input, digest);
  Bytes signature(expected);
  CK_ULONG size = static_cast<CK_ULONG>(signature.size());

  CK_FUNCTION_LIST* fn = pool_.fn();
  CK_SESSION_HANDLE session = pool_.acquire(token_label_);
  CK_RV rv = fn->C_SignInit(session, &mechanism, key_.handle);
  if (rv == CKR_OK)
    rv = fn->C_Sign(session, input.data(), static_cast<CK_ULONG>(input.size()), signature.data(), &size);
  pool_.release(session, rv == CKR_OK);
  if (rv != CKR_OK)
    throw TokenError(rv, token_failure(rv, "signing with key " + quote_label(key_.name), token_label_));
  signature.resize(size);
  // A shorter RSA result would be a token bug; pad it rather than emit a bad MPI. An EC
  // result of the wrong length is refused by the caller (openpgp::signature_mpis).
  if (pub.algorithm == KeyAlgorithm::rsa && signature.size() < expected)
    signature.insert(signature.begin(), expected - signature.size(), 0);
  return signature;
}

}  // namespace catsign::token
