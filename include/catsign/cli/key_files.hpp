// SPDX-License-Identifier: Apache-2.0
// What keygen, extend and export share: a certificate made from a token key (key packet, user
// IDs, one positive self-certification each, RFC 4880 §11.1), written atomically, and the key
// expiration time an operator's DURATION means.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "catsign/openpgp/signing.hpp"

namespace catsign::cli {

// The key expiration time (seconds after `created`, RFC 4880 §5.2.3.6) for a key that is to
// expire `duration` (parse_duration) after `from`; nullopt for no duration. Error(usage) when
// it would not fit the subpacket's 32 bits.
std::optional<std::uint32_t> expiration_for(std::uint32_t created, std::uint64_t from,
                                            const std::optional<std::string>& duration);

// A user ID and the self-certifications it keeps from an earlier certificate.
struct UserIdToCertify {
  std::string user_id;
  std::vector<openpgp::Signature> earlier;
};

// The armored certificate: the key, then each user ID with its earlier self-certifications and
// a new one, made at `signed_at` (0: now), that expires `expiration` seconds after the key's
// creation (0: never). Earlier ones stay because clients judge a signature by the
// self-signature valid when it was made (Sequoia refuses one older than every binding).
std::string make_armored_certificate(openpgp::OpenPgpKey& key, const std::vector<UserIdToCertify>& user_ids,
                                     std::uint32_t expiration, std::uint32_t signed_at = 0);

}  // namespace catsign::cli
