// SPDX-License-Identifier: Apache-2.0
// The package gate (docs/DESIGN.md "Contract"): every package a catalog lists is present, has the size and
// md5 the catalog says, and carries a FILE.asc by a trusted package key. One read per package
// feeds MD5 and the signature's document hash; a few workers keep both cores busy.
#include "catsign/catalog/package_gate.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/verify.hpp"
#include "catsign/openpgp/verify_each.hpp"

namespace catsign::catalog {

namespace {

// A detached signature is well under 2 KB; anything this large is not one.
constexpr std::uint64_t kMaxSignatureFile = 1 << 20;
constexpr std::size_t kReadChunk = 256 * 1024;

// A keyring certificate with its RSA verifier, built once for all packages.
struct TrustedKey {
  const openpgp::Certificate* cert;
  std::unique_ptr<openpgp::Verifier> verifier;
};

struct EvpMdDeleter {
  void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};
struct EvpCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

std::string hex(const unsigned char* data, std::size_t n) { return to_hex(ByteView(data, n)); }

// Per worker: an MD5 context and a read buffer, reused for every package.
class Worker {
 public:
  Worker(const EVP_MD* md5, const Root& root, const std::string& directory,
         const std::vector<TrustedKey>& keys)
      : md5_(md5), ctx_(EVP_MD_CTX_new()), buffer_(kReadChunk), root_(root), directory_(directory),
        keys_(keys) {
    if (!ctx_) throw Error(Errc::internal, "out of memory for an MD5 context");
  }

  PackageResult check(const CatalogEntry& entry);

 private:
  struct SignatureState {
    // One or more (a package signed by the old and the new key while a key is rotated).
    std::vector<openpgp::Signature> signatures;
    PackageStatus status = PackageStatus::ok;  // unsigned_ or bad_signature when no signature
    std::string detail;
  };

  std::string path_of(const std::string& file) const {
    return directory_.empty() ? file : directory_ + "/" + file;
  }
  SignatureState read_signature(const std::string& asc);
  const TrustedKey* signer_of(const openpgp::Signature& sig, std::string& why) const;

  const EVP_MD* md5_;
  std::unique_ptr<EVP_MD_CTX, EvpCtxDeleter> ctx_;
  std::vector<std::uint8_t> buffer_;
  const Root& root_;
  const std::string& directory_;
  const std::vector<TrustedKey>& keys_;
};

Worker::SignatureState Worker::read_signature(const std::string& asc) {
  SignatureState s;
  OpenedFile f;
  try {
    f = open_beneath(root_, asc, kMaxSignatureFile);
  } catch (const Error& e) {
    if (e.code() != Errc::refused) throw;
    s.status = PackageStatus::unsigned_;
    s.detail = e.what();
    return s;
  }
  Bytes data;
  data.reserve(f.size);
  read_fd_chunks(f.fd.get(), asc, [&](ByteView chunk) {
    if (data.size() + chunk.size() > kMaxSignatureFile) {
      throw Error(Errc::malformed, "larger than " + std::to_string(kMaxSignatureFile) + " bytes");
    }
    data.insert(data.end(), chunk.begin(), chunk.end());
  });
  try {
    s.signatures = openpgp::read_document_signatures(data);
  } catch (const Error& e) {
    s.status = PackageStatus::bad_signature;
    s.detail = asc + ": " + e.what();
  }
  return s;
}

// The keyring certificate the signature names (issuer fingerprint, else key ID), or null
// with `why` set. A revoked certificate is never returned.
const TrustedKey* Worker::signer_of(const openpgp::Signature& sig, std::string& why) const {
  const auto fp = sig.issuer_fingerprint();
  const auto id = sig.issuer_key_id();
  const TrustedKey* found = nullptr;
  for (const TrustedKey& k : keys_) {
    const auto& kfp = k.cert->fingerprint;
    const bool match = fp ? *fp == kfp
                          : id && std::equal(id->begin(), id->end(), kfp.end() - 8, kfp.end());
    if (!match) continue;
    if (k.cert->revoked()) {
      why = "signed by " + openpgp::format_fingerprint(kfp) + ", a revoked key";
      return nullptr;
    }
    found = &k;
    break;
  }
  if (found) return found;
  if (fp) {
    why = "signed by " + openpgp::format_fingerprint(*fp) + ", a key not in the keyring";
  } else if (id) {
    why = "signed by key ID " + openpgp::format_key_id(*id) + ", a key not in the keyring";
  } else {
    why = "the signature names no issuer";
  }
  return nullptr;
}

PackageResult Worker::check(const CatalogEntry& entry) {
  PackageResult r;
  r.file = entry.file;
  r.line = entry.line;
  const std::string path = path_of(entry.file);

  OpenedFile f;
  try {
    f = open_beneath(root_, path, UINT64_MAX);
  } catch (const Error& e) {
    if (e.code() != Errc::refused) throw;
    r.status = PackageStatus::missing;
    r.detail = e.what();
    return r;
  }
  if (f.size != entry.size) {
    r.status = PackageStatus::size_mismatch;
    r.detail = "size " + std::to_string(f.size) + ", catalog says " + std::to_string(entry.size);
    return r;
  }

  // The signatures first: their hash algorithms and types decide what the single read feeds.
  // A signature by a key the keyring does not hold is neither counted nor hashed (while a key
  // is rotated, the keyring may hold only one of the two).
  SignatureState sig = read_signature(path + ".asc");
  struct Judged {
    const openpgp::Signature* signature;
    const TrustedKey* key;
    openpgp::DocumentHasher hasher;
  };
  std::vector<Judged> judged;
  std::string first_unknown;
  for (const openpgp::Signature& one : sig.signatures) {
    std::string why;
    if (const TrustedKey* key = signer_of(one, why)) {
      judged.push_back({&one, key, openpgp::DocumentHasher(one.hash, one.type)});
    } else if (first_unknown.empty()) {
      first_unknown = why;
    }
  }

  ::posix_fadvise(f.fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  if (EVP_DigestInit_ex2(ctx_.get(), md5_, nullptr) != 1) {
    throw Error(Errc::internal, "MD5 is not available from OpenSSL");
  }
  std::uint64_t total = 0;
  for (;;) {
    // Never read past what the catalog promises (plus one byte to see growth).
    const std::uint64_t want = std::min<std::uint64_t>(buffer_.size(), entry.size + 1 - total);
    if (want == 0) break;
    ssize_t n = ::read(f.fd.get(), buffer_.data(), static_cast<std::size_t>(want));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(Errc::io, "cannot read package " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    const auto got = static_cast<std::size_t>(n);
    total += got;
    EVP_DigestUpdate(ctx_.get(), buffer_.data(), got);
    for (Judged& j : judged) j.hasher.update(ByteView(buffer_.data(), got));
  }
  if (total != entry.size) {
    r.status = PackageStatus::size_mismatch;
    r.detail = "changed while it was read: " + std::to_string(total) + (total > entry.size ? "+" : "") +
               " bytes read, catalog says " + std::to_string(entry.size);
    return r;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), digest, &digest_len) != 1) {
    throw Error(Errc::internal, "MD5 failed in OpenSSL");
  }
  const std::string md5 = hex(digest, digest_len);
  if (md5 != entry.md5) {
    r.status = PackageStatus::md5_mismatch;
    r.detail = "md5 " + md5 + ", catalog says " + entry.md5;
    return r;
  }

  if (sig.signatures.empty()) {
    r.status = sig.status;
    r.detail = std::move(sig.detail);
    return r;
  }
  if (judged.empty()) {
    r.status = PackageStatus::bad_signature;
    r.detail = path + ".asc: " + first_unknown;
    return r;
  }
  // Every signature by a keyring key must verify, and at least one does: a bad one is never
  // outweighed by a good one (the rule `catsign verify` follows).
  std::string signers;
  for (Judged& j : judged) {
    try {
      openpgp::verify_document(*j.key->cert, *j.key->verifier, *j.signature, std::move(j.hasher));
      if (!signers.empty()) signers += ", ";
      signers += openpgp::format_fingerprint(j.key->cert->fingerprint);
    } catch (const Error& e) {
      if (e.code() != Errc::bad_signature) throw;
      r.status = PackageStatus::bad_signature;
      r.detail = path + ".asc: " + e.what();
      return r;
    }
  }
  r.detail = "signed by " + signers;
  return r;
}

}  // namespace

const char* package_status_name(PackageStatus s) noexcept {
  switch (s) {
    case PackageStatus::ok: return "ok";
    case PackageStatus::missing: return "missing";
    case PackageStatus::size_mismatch: return "size_mismatch";
    case PackageStatus::md5_mismatch: return "md5_mismatch";
    case PackageStatus::unsigned_: return "unsigned";
    case PackageStatus::bad_signature: return "bad_signature";
  }
  return "unknown";
}

bool GateReport::ok() const noexcept { return failures() == 0; }

std::size_t GateReport::failures() const noexcept {
  return static_cast<std::size_t>(std::count_if(packages.begin(), packages.end(), [](const PackageResult& p) {
    return p.status != PackageStatus::ok;
  }));
}

std::string GateReport::summary(std::size_t max_named) const {
  const std::size_t failed = failures();
  if (failed == 0) return "all " + std::to_string(packages.size()) + " packages pass";
  std::string out = std::to_string(failed) + " of " + std::to_string(packages.size()) + " packages fail: ";
  std::size_t named = 0;
  for (const PackageResult& p : packages) {
    if (p.status == PackageStatus::ok) continue;
    if (named == max_named) {
      out += ", and " + std::to_string(failed - named) + " more";
      break;
    }
    if (named++ > 0) out += ", ";
    out += p.file + " (" + package_status_name(p.status) + ")";
  }
  return out;
}

GateReport check_packages(const OpenCswCatalog& catalog, const Root& root, const std::string& directory,
                          const std::vector<openpgp::Certificate>& keyring, const GateOptions& options) {
  std::vector<TrustedKey> keys;
  keys.reserve(keyring.size());
  for (const auto& cert : keyring) {
    keys.push_back({&cert, std::make_unique<openpgp::Verifier>(cert.key.material)});
  }
  std::unique_ptr<EVP_MD, EvpMdDeleter> md5(EVP_MD_fetch(nullptr, "MD5", nullptr));
  if (!md5) throw Error(Errc::internal, "OpenSSL offers no MD5 (is the default provider loaded?)");

  const std::size_t total = catalog.entries.size();
  GateReport report;
  report.packages.resize(total);
  if (total == 0) return report;

  unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
  threads = static_cast<unsigned>(std::clamp<std::size_t>(threads, 1, total));

  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;  // guards done, failure and the progress callback
  std::size_t done = 0;
  std::exception_ptr failure;

  auto work = [&] {
    try {
      Worker worker(md5.get(), root, directory, keys);
      for (;;) {
        if (stop.load(std::memory_order_relaxed)) return;
        const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
        if (i >= total) return;
        report.packages[i] = worker.check(catalog.entries[i]);
        std::lock_guard lock(mutex);
        ++done;
        if (options.progress) options.progress(done, total);
      }
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!failure) failure = std::current_exception();
      stop = true;
    }
  };

  if (threads == 1) {
    work();
  } else {
    std::vector<std::jthread> pool;
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
  }
  if (failure) std::rethrow_exception(failure);
  return report;
}

std::vector<openpgp::Certificate> read_package_keyring(ByteView data) {
  if (!openpgp::looks_armored(data)) return openpgp::parse_keyring(data);
  // Armored: certificates, and perhaps revocation certificates as blocks of their own (what
  // gpg --gen-revoke writes: a PUBLIC KEY BLOCK holding one key revocation signature).
  const auto blocks =
      openpgp::dearmor_all(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  Bytes certificates;
  std::vector<const Bytes*> revocations;
  for (const auto& block : blocks) {
    const auto packets = openpgp::parse_packets(block.data);
    if (!packets.empty() && packets.front().tag == static_cast<std::uint8_t>(openpgp::PacketTag::signature)) {
      revocations.push_back(&block.data);
    } else {
      certificates.insert(certificates.end(), block.data.begin(), block.data.end());
    }
  }
  if (certificates.empty()) throw Error(Errc::malformed, "keyring: no certificate in it");
  std::vector<openpgp::Certificate> certs = openpgp::parse_keyring(certificates);
  for (const Bytes* rev : revocations) {
    const auto packets = openpgp::parse_packets(*rev);
    const openpgp::Signature sig = openpgp::parse_signature(packets.front().body);
    const auto fp = sig.issuer_fingerprint();
    const auto id = sig.issuer_key_id();
    // A revocation for a key not in the keyring changes nothing.
    for (auto& cert : certs) {
      const auto& kfp = cert.fingerprint;
      if (fp ? *fp != kfp : !(id && std::equal(id->begin(), id->end(), kfp.end() - 8, kfp.end()))) continue;
      // Refuses a revocation that does not verify: a keyring with a forged or damaged
      // revocation is not one to trust quietly.
      cert.revocations.push_back(openpgp::parse_revocation_for(cert, *rev));
    }
  }
  return certs;
}

}  // namespace catsign::catalog
