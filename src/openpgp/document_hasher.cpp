// SPDX-License-Identifier: Apache-2.0
#include "catsign/openpgp/document_hasher.hpp"

#include <botan/hash.h>

#include <cstring>

#include "catsign/error.hpp"

namespace catsign::openpgp {

DocumentHasher::DocumentHasher(HashAlgorithm hash, SignatureType type)
    : hash_(hash), type_(type), fn_(Botan::HashFunction::create_or_throw(botan_hash_name(hash))) {}

DocumentHasher::~DocumentHasher() = default;
DocumentHasher::DocumentHasher(DocumentHasher&&) noexcept = default;
DocumentHasher& DocumentHasher::operator=(DocumentHasher&&) noexcept = default;

void DocumentHasher::update(ByteView data) {
  if (!fn_) throw Error(Errc::internal, "document hasher used after finish");
  if (type_ != SignatureType::text) {
    fn_->update(data.data(), data.size());
    return;
  }
  // Canonical text (RFC 4880 §5.2.1, type 0x01): every line ending becomes CR LF. Runs without
  // a bare LF pass straight through; the CR state carries across chunk boundaries.
  static const std::uint8_t crlf[2] = {'\r', '\n'};
  std::size_t start = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\n' && !(i == 0 ? last_was_cr_ : data[i - 1] == '\r')) {
      fn_->update(data.data() + start, i - start);
      fn_->update(crlf, 2);
      start = i + 1;
    }
  }
  fn_->update(data.data() + start, data.size() - start);
  if (!data.empty()) last_was_cr_ = data.back() == '\r';
}

Bytes DocumentHasher::finish(const Signature& signature) {
  if (!fn_) throw Error(Errc::internal, "document hasher used after finish");
  Bytes hashed = signature.hashed_part();
  Bytes trailer = signature.trailer();
  fn_->update(hashed.data(), hashed.size());
  fn_->update(trailer.data(), trailer.size());
  Bytes digest(fn_->output_length());
  fn_->final(digest.data());
  fn_.reset();
  return digest;
}

Bytes DocumentHasher::data_digest() const {
  if (!fn_) throw Error(Errc::internal, "document hasher used after finish");
  auto copy = fn_->copy_state();
  Bytes digest(copy->output_length());
  copy->final(digest.data());
  return digest;
}

DocumentHasher DocumentHasher::clone() const {
  if (!fn_) throw Error(Errc::internal, "document hasher used after finish");
  DocumentHasher copy;
  copy.hash_ = hash_;
  copy.type_ = type_;
  copy.last_was_cr_ = last_was_cr_;
  copy.fn_ = fn_->copy_state();
  return copy;
}

}  // namespace catsign::openpgp
