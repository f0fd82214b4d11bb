// SPDX-License-Identifier: Apache-2.0
// Files signed by several keys (key rotation: one signature by the old key, one by the new,
// RFC 4880 §11.4 for detached signatures, §7 for a cleartext block): every signature is named
// and judged on its own against the certificates the caller trusts.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catsign/openpgp/certificate.hpp"
#include "catsign/openpgp/verify.hpp"

namespace catsign::openpgp {

// More signatures than a rotation ever needs are refused as malformed, so a hostile file
// can't make the verifier read the data without bound.
inline constexpr std::size_t kMaxSignatures = 16;

// The document signatures in `signature_data` (armored or binary): one or more signature
// packets of type binary or text, nothing else. Error(malformed) names what was wrong.
std::vector<Signature> read_document_signatures(ByteView signature_data);

enum class Verdict {
  good,     // by a given certificate, and it verifies
  bad,      // by a given certificate, and it does not verify (or breaks a rule)
  unknown,  // by a key none of the given certificates holds
};
const char* verdict_name(Verdict v) noexcept;  // "good", "bad", "unknown"

struct SignatureReport {
  Verdict verdict = Verdict::unknown;
  std::string issuer;               // the issuer fingerprint, else its key ID, formatted
  const Certificate* cert = nullptr;  // the certificate it was checked against (good, bad)
  std::optional<Verified> verified;   // good
  std::string reason;                 // bad: the rule that failed
};

// One report per signature, in the file's order. `feed` hands the signed bytes to a hasher;
// it is called once for each signature a certificate is given for.
std::vector<SignatureReport> verify_each(std::span<const Certificate> certs, std::span<const Signature> signatures,
                                         const std::function<void(DocumentHasher&)>& feed);

// The same for a cleartext-signed message: every signature in its signature block over its
// text, each a text (0x01) signature with a hash its Hash: header names.
std::vector<SignatureReport> verify_cleartext_each(std::span<const Certificate> certs, std::string_view message);

}  // namespace catsign::openpgp
