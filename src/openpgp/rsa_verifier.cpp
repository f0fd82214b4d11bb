// SPDX-License-Identifier: Apache-2.0
// RSASSA-PKCS1-v1_5 verification through OpenSSL's EVP interface: the public operation and the
// DigestInfo comparison (RFC 8017 §8.2.2) are OpenSSL's, which does the exponentiation several
// times faster than Botan's Montgomery code; check-catalog verifies one signature per package.
#include "catsign/openpgp/rsa_verifier.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

#include "catsign/error.hpp"
#include "catsign/openpgp/packet.hpp"

namespace catsign::openpgp {

namespace {

struct BnFree {
  void operator()(BIGNUM* b) const noexcept { BN_free(b); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const noexcept { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};

std::string openssl_reason() {
  unsigned long e = ERR_peek_last_error();
  std::string out = "no reason given";
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out;
}

}  // namespace

struct RsaVerifier::Impl {
  EVP_PKEY* key = nullptr;
  std::size_t modulus_bytes = 0;
  const EVP_MD* sha256 = nullptr;  // fetched once: an implicit fetch per call costs more
  const EVP_MD* sha384 = nullptr;
  const EVP_MD* sha512 = nullptr;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    EVP_PKEY_free(key);
    EVP_MD_free(const_cast<EVP_MD*>(sha256));
    EVP_MD_free(const_cast<EVP_MD*>(sha384));
    EVP_MD_free(const_cast<EVP_MD*>(sha512));
  }
};

// Malformed keys (an even modulus, say) are refused by the parser; anything OpenSSL still
// refuses here becomes catsign's one error type, so no key a file supplies can end the process.
RsaVerifier::RsaVerifier(const RsaPublicKey& key) : impl_(std::make_unique<Impl>()) {
  ERR_clear_error();
  const ByteView n = strip_leading_zeros(key.n);
  const ByteView e = strip_leading_zeros(key.e);
  if (n.empty() || e.empty()) throw Error(Errc::malformed, "the RSA key is not usable: an empty modulus or exponent");
  std::unique_ptr<BIGNUM, BnFree> bn_n(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> bn_e(BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    throw Error(Errc::internal, "out of memory for an RSA key: " + openssl_reason());
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &impl_->key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    throw Error(Errc::malformed, "the RSA key is not usable: " + openssl_reason());
  impl_->modulus_bytes = n.size();
  impl_->sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  impl_->sha384 = EVP_MD_fetch(nullptr, "SHA384", nullptr);
  impl_->sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  if (impl_->sha256 == nullptr || impl_->sha384 == nullptr || impl_->sha512 == nullptr)
    throw Error(Errc::internal, "OpenSSL offers no SHA-256, SHA-384 or SHA-512: " + openssl_reason());
}
RsaVerifier::~RsaVerifier() = default;

bool RsaVerifier::verify(HashAlgorithm hash, ByteView digest, ByteView signature) const {
  if (digest.size() != hash_size(hash)) return false;
  // An OpenPGP MPI drops leading zero octets; PKCS#1 wants the signature at modulus length.
  ByteView s = strip_leading_zeros(signature);
  const std::size_t k = impl_->modulus_bytes;
  if (s.size() > k) return false;
  Bytes padded(k - s.size(), 0);
  padded.insert(padded.end(), s.begin(), s.end());
  // A context per call: the key is shared read-only, so threads verify at once.
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->key, nullptr));
  const EVP_MD* md = hash == HashAlgorithm::sha512   ? impl_->sha512
                     : hash == HashAlgorithm::sha384 ? impl_->sha384
                                                     : impl_->sha256;
  // With the md set, OpenSSL checks the whole encoded message, DigestInfo included, against
  // the one it builds itself (RFC 8017 §8.2.2 step 3-4), not a parse of what it found.
  const bool ok = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
                  EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
                  EVP_PKEY_CTX_set_signature_md(ctx.get(), md) == 1 &&
                  EVP_PKEY_verify(ctx.get(), padded.data(), padded.size(), digest.data(), digest.size()) == 1;
  // A bad signature leaves reasons in this thread's queue; nobody is to read them later.
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace catsign::openpgp
