// SPDX-License-Identifier: Apache-2.0
// Verification of document signatures made by catsign or anyone else with a v4 RSA, ECDSA or
// EdDSA key.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catsign/openpgp/certificate.hpp"
#include "catsign/openpgp/document_hasher.hpp"
#include "catsign/openpgp/verifier.hpp"
#include "catsign/openpgp/signature.hpp"

namespace catsign::openpgp {

struct Verified {
  Fingerprint signer{};
  std::uint32_t creation_time = 0;
  SignatureType type = SignatureType::binary;
  HashAlgorithm hash = HashAlgorithm::sha256;
  std::vector<Notation> notations;
};

// Reads the single document signature in `signature_data` (armored or binary). Anything but
// exactly one binary or text signature packet is refused as malformed.
Signature read_document_signature(ByteView signature_data);

// Checks a signature over a document whose bytes `feed` delivers in order (it is handed the
// hasher's update). The certificate must be unrevoked; the signature must name it as issuer
// (by fingerprint or key ID), carry a creation time, have no unknown critical subpacket, and
// verify. Error(bad_signature) says which rule failed.
Verified verify_document(const Certificate& cert, const Signature& signature,
                         const std::function<void(DocumentHasher&)>& feed);

// The same with `verifier` built once from cert.key.material by the caller, for many signatures by
// one key (the package gate): building a key and verifier per signature is waste.
Verified verify_document(const Certificate& cert, const Verifier& verifier,
                         const Signature& signature,
                         const std::function<void(DocumentHasher&)>& feed);

// The same with a hasher the caller has fed already, in the same pass as another hash (the
// package gate reads each package once for its md5 and its signature). It must have been made
// for the signature's hash and type; Error(bad_signature) otherwise.
Verified verify_document(const Certificate& cert, const Verifier& verifier,
                         const Signature& signature, DocumentHasher&& fed);

// Convenience forms.
Verified verify_detached(const Certificate& cert, ByteView signature_data, ByteView data);
Verified verify_cleartext(const Certificate& cert, std::string_view message,
                          std::string* text_out = nullptr);

}  // namespace catsign::openpgp
