// SPDX-License-Identifier: Apache-2.0
// Hashes a document for a binary (0x00) or canonical-text (0x01) signature, fed in chunks so
// a file of any size is read once in bounded memory (RFC 4880 §5.2.4).
#pragma once

#include <memory>

#include "catsign/openpgp/signature.hpp"

namespace Botan {
class HashFunction;
}

namespace catsign::openpgp {

class DocumentHasher {
 public:
  // `type` must be binary or text. For text, line endings are converted to CR LF as the data
  // passes (RFC 4880 §5.2.1): a lone LF becomes CR LF; CR LF stays.
  DocumentHasher(HashAlgorithm hash, SignatureType type);
  ~DocumentHasher();
  DocumentHasher(DocumentHasher&&) noexcept;
  DocumentHasher& operator=(DocumentHasher&&) noexcept;

  void update(ByteView data);
  // Hashes the signature's hashed part and trailer after the data, returns the digest. The
  // hasher is finished afterwards.
  Bytes finish(const Signature& signature);

  // The plain hash of the data fed so far (no trailer): for a binary SHA-256 hasher, the
  // file's SHA-256. The hasher itself goes on.
  Bytes data_digest() const;

  // A copy of the state so far: one pass over a file feeds a signature per key
  // (signing/pipeline.hpp).
  DocumentHasher clone() const;

  HashAlgorithm hash() const noexcept { return hash_; }
  SignatureType type() const noexcept { return type_; }

 private:
  DocumentHasher() = default;
  HashAlgorithm hash_ = HashAlgorithm::sha256;
  SignatureType type_ = SignatureType::binary;
  bool last_was_cr_ = false;
  std::unique_ptr<Botan::HashFunction> fn_;
};

}  // namespace catsign::openpgp
