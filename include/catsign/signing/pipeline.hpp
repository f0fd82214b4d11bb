// SPDX-License-Identifier: Apache-2.0
// The one signing pipeline: every signature catsign publishes (the daemon's catalog and
// package signatures, `catsign sign`, `resign`, `sign-packages`) is built here, so the forms,
// their file suffixes and the facts an audit record needs are decided in one place
// (docs/DESIGN.md "The path of one signature").
//
//   Job job(Form::cleartext, options, out);   // out receives what is published
//   job.read(source);                         // the source, read once, bounded
//   check(job.source_sha256());               // the caller's checks, before any signature
//   Facts facts = job.sign(signers);          // one signature per signer, written to out
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catsign/openpgp/cleartext.hpp"
#include "catsign/openpgp/document_hasher.hpp"
#include "catsign/openpgp/public_key.hpp"
#include "catsign/openpgp/signing.hpp"
#include "catsign/util/file.hpp"

namespace Botan {
class HashFunction;
}

namespace catsign::signing {

enum class Form {
  detached_armored,  // FILE.asc: an armored detached signature (RFC 4880 §6.2)
  detached_binary,   // FILE.sig: the binary signature packets
  cleartext,         // FILE.signed: the text inside the cleartext framework (RFC 4880 §7)
};

const char* form_name(Form form) noexcept;   // "armored", "binary", "clearsign": audit records
const char* suffix_for(Form form) noexcept;  // ".asc", ".sig", ".signed"

// Completes an OpenPGP document signature over what a hasher was fed: an OpenPgpKey in the
// one-shot commands, a configured key of the daemon's KeyHolder in catsignd.
class DocumentSigner {
 public:
  virtual ~DocumentSigner() = default;
  virtual openpgp::Signature sign_document(openpgp::DocumentHasher&& hasher,
                                           const openpgp::SignOptions& options) = 0;
  virtual openpgp::Fingerprint fingerprint() const = 0;
  // The hash this key signs with unless asked otherwise (SHA-384 for P-384, key_material.hpp).
  virtual HashAlgorithm default_hash() const = 0;
};

// The hash for one job signed by all of `signers`: the longest of their defaults, so it is
// long enough for every key (docs/DESIGN.md "What a signature carries").
HashAlgorithm hash_for(std::span<DocumentSigner* const> signers);
inline HashAlgorithm hash_for(DocumentSigner& signer) { return signer.default_hash(); }

// Adapts an OpenPgpKey (a token key bound to its certificate) to the pipeline.
class KeySigner final : public DocumentSigner {
 public:
  explicit KeySigner(openpgp::OpenPgpKey& key) : key_(key) {}
  openpgp::Signature sign_document(openpgp::DocumentHasher&& hasher, const openpgp::SignOptions& options) override {
    return key_.sign_document(std::move(hasher), options);
  }
  openpgp::Fingerprint fingerprint() const override { return key_.fingerprint(); }
  HashAlgorithm default_hash() const override { return key_.default_hash(); }

 private:
  openpgp::OpenPgpKey& key_;
};

// A source with no size limit of its own (a file an operator names on the command line).
inline constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

// What is signed: an open descriptor, read from where it stands to its end, once.
struct Source {
  int fd = -1;
  std::string name;                            // for messages
  std::uint64_t max_size = kUnlimited;         // more than this is refused, and never read
  std::optional<std::uint64_t> expected_size;  // the size seen at open: any other is refused
};

// What an audit record says of a signature.
struct Facts {
  Form form = Form::detached_armored;
  Bytes source_sha256;  // of the bytes read
  std::uint64_t source_size = 0;
  HashAlgorithm hash = HashAlgorithm::sha256;  // the signatures' hash
  std::vector<openpgp::Fingerprint> keys;      // one signature per key, in this order
};

class Job {
 public:
  // Everything the job publishes goes to `out`: for a cleartext form the framed text as it
  // is read and the signature block at the end; for a detached form only the signature.
  Job(Form form, openpgp::SignOptions options, FileWriter& out);
  ~Job();
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  // Reads the source to its end in bounded chunks. Refuses (Error refused) a source larger
  // than its max_size, or one whose size is not its expected_size: a file that grew or shrank
  // under the read. `also` sees every chunk (the daemon keeps a catalog's text for its gate).
  void read(const Source& source, const std::function<void(ByteView)>& also = {});
  // Feeds bytes already in memory (a re-signed cleartext catalog's text).
  void update(ByteView data);

  // The SHA-256 and size of everything read (for a detached SHA-256 form, from the signature
  // hash itself). Ends the input.
  const Bytes& source_sha256();
  std::uint64_t source_size() const noexcept { return size_; }

  // One signature per signer over the same input, written to `out` as one detached block or
  // one cleartext signature block. Every signer's result was verified before it is written
  // (OpenPgpKey checks each token signature). Call once.
  Facts sign(std::span<DocumentSigner* const> signers);
  Facts sign(DocumentSigner& signer) {
    DocumentSigner* one[] = {&signer};
    return sign(one);
  }

 private:
  Form form_;
  openpgp::SignOptions options_;
  FileWriter& out_;
  std::unique_ptr<Botan::HashFunction> sha256_;            // unless the signature hash is it
  std::optional<openpgp::DocumentHasher> hasher_;           // detached forms
  std::optional<openpgp::CleartextWriter> cleartext_;       // the cleartext form
  std::uint64_t size_ = 0;
  Bytes source_sha256_;
  bool signed_ = false;
};

// A FileWriter that keeps what it is given, for replies that must be whole before they are
// sent (the daemon's).
struct StringWriter final : FileWriter {
  std::string text;
  using FileWriter::write;
  void write(ByteView data) override { text.append(data.begin(), data.end()); }
};

}  // namespace catsign::signing
