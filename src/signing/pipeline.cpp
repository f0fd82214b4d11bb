// SPDX-License-Identifier: Apache-2.0
#include "catsign/signing/pipeline.hpp"

#include <botan/hash.h>

#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"

namespace catsign::signing {

const char* form_name(Form form) noexcept {
  switch (form) {
    case Form::detached_armored: return "armored";
    case Form::detached_binary: return "binary";
    case Form::cleartext: return "clearsign";
  }
  return "armored";
}

const char* suffix_for(Form form) noexcept {
  switch (form) {
    case Form::detached_armored: return ".asc";
    case Form::detached_binary: return ".sig";
    case Form::cleartext: return ".signed";
  }
  return ".asc";
}

HashAlgorithm hash_for(std::span<DocumentSigner* const> signers) {
  HashAlgorithm best = HashAlgorithm::sha256;
  for (const DocumentSigner* s : signers)
    if (hash_size(s->default_hash()) > hash_size(best)) best = s->default_hash();
  return best;
}

Job::Job(Form form, openpgp::SignOptions options, FileWriter& out)
    : form_(form), options_(std::move(options)), out_(out) {
  if (form == Form::cleartext) {
    cleartext_.emplace(out, options_.hash);
  } else {
    // RFC 4880 §5.2.1: a detached signature of a file is a binary-document signature (0x00).
    hasher_.emplace(options_.hash, openpgp::SignatureType::binary);
  }
  // A binary-document SHA-256 hash takes the bytes as they are (RFC 4880 §5.2.4): before its
  // trailer it is the file's SHA-256, so one hash serves both, and what is checked is exactly
  // what is signed. The cleartext form hashes canonical text, and SHA-512 is another hash:
  // those count the file's SHA-256 on their own.
  if (form == Form::cleartext || options_.hash != HashAlgorithm::sha256)
    sha256_ = Botan::HashFunction::create_or_throw("SHA-256");
}

Job::~Job() = default;

void Job::update(ByteView data) {
  if (!source_sha256_.empty()) throw Error(Errc::internal, "signing job: input after its end");
  if (sha256_) sha256_->update(data.data(), data.size());
  size_ += data.size();
  if (cleartext_) {
    cleartext_->update(data);
  } else {
    hasher_->update(data);
  }
}

void Job::read(const Source& source, const std::function<void(ByteView)>& also) {
  // Never read past what may be signed: a file that grows after it was opened (or a sparse
  // one swapped in) costs at most max_size + 1 bytes of reading, never memory without bound.
  const std::uint64_t limit = source.expected_size ? std::min(*source.expected_size, source.max_size) : source.max_size;
  const std::uint64_t got = read_fd_chunks_up_to(source.fd, source.name, limit, [&](ByteView chunk) {
    update(chunk);
    if (also) also(chunk);
  });
  if (got > limit) {
    if (source.expected_size && *source.expected_size <= source.max_size)
      throw Error(Errc::refused, source.name + " grew while it was read (it had " +
                                     std::to_string(*source.expected_size) +
                                     " bytes when opened): nothing was signed; sign it once it is complete");
    throw Error(Errc::refused, source.name + " is larger than the " + std::to_string(source.max_size) +
                                   "-byte limit: nothing was signed");
  }
  if (source.expected_size && got != *source.expected_size)
    throw Error(Errc::refused, source.name + " shrank while it was read (" + std::to_string(got) + " of " +
                                   std::to_string(*source.expected_size) +
                                   " bytes): nothing was signed; sign it once it is complete");
}

const Bytes& Job::source_sha256() {
  if (source_sha256_.empty()) source_sha256_ = sha256_ ? sha256_->final_stdvec() : hasher_->data_digest();
  return source_sha256_;
}

Facts Job::sign(std::span<DocumentSigner* const> signers) {
  if (signed_) throw Error(Errc::internal, "signing job: signed twice");
  if (signers.empty()) throw Error(Errc::internal, "signing job: no signer");
  signed_ = true;
  Facts facts;
  facts.form = form_;
  facts.source_sha256 = source_sha256();
  facts.source_size = size_;
  facts.hash = options_.hash;

  openpgp::DocumentHasher base = cleartext_ ? cleartext_->finish_text() : std::move(*hasher_);
  std::vector<openpgp::Signature> signatures;
  for (std::size_t i = 0; i < signers.size(); ++i) {
    // Every signer hashes the same input: the last takes the hasher, the others a copy of it.
    openpgp::DocumentHasher hasher = i + 1 < signers.size() ? base.clone() : std::move(base);
    signatures.push_back(signers[i]->sign_document(std::move(hasher), options_));
    facts.keys.push_back(signers[i]->fingerprint());
  }
  if (cleartext_) {
    cleartext_->write_signatures(signatures);
    return facts;
  }
  // Several signatures in one detached file are their packets one after the other
  // (RFC 4880 §11.4).
  Bytes packets;
  for (const openpgp::Signature& s : signatures) put_bytes(packets, s.packet());
  if (form_ == Form::detached_binary) {
    out_.write(packets);
  } else {
    out_.write(openpgp::armor(openpgp::ArmorKind::signature, packets));
  }
  return facts;
}

}  // namespace catsign::signing
