// SPDX-License-Identifier: Apache-2.0
#include "catsign/cli/key_files.hpp"

#include <ctime>

#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/util/duration.hpp"

namespace catsign::cli {

std::optional<std::uint32_t> expiration_for(std::uint32_t created, std::uint64_t from,
                                            const std::optional<std::string>& duration) {
  if (!duration) return std::nullopt;
  const std::uint64_t until = from + static_cast<std::uint64_t>(parse_duration(*duration).count());
  if (until <= created || until - created > 0xffffffffull)
    throw Error(Errc::usage, "--expires " + *duration + " does not fit an OpenPGP key expiration time");
  return static_cast<std::uint32_t>(until - created);
}

std::string make_armored_certificate(openpgp::OpenPgpKey& key, const std::vector<UserIdToCertify>& user_ids,
                                     std::uint32_t expiration, std::uint32_t signed_at) {
  if (user_ids.empty()) throw Error(Errc::internal, "a certificate needs a user ID");
  openpgp::SignOptions options;
  options.hash = key.default_hash();
  // Never older than the key: a self-signature made before its key is invalid (RFC 4880
  // §5.2.3.4), and keygen signs within the second it created the key.
  const auto now = signed_at != 0 ? signed_at : static_cast<std::uint32_t>(std::time(nullptr));
  options.creation_time = std::max(now, key.public_key().creation_time);
  Bytes cert = key.public_key().packet();
  for (const UserIdToCertify& uid : user_ids) {
    openpgp::Signature self =
        key.certify_user_id(uid.user_id, openpgp::kKeyFlagCertify | openpgp::kKeyFlagSign, options, expiration);
    put_bytes(cert, openpgp::encode_packet(openpgp::PacketTag::user_id, as_bytes(uid.user_id)));
    for (const openpgp::Signature& earlier : uid.earlier) put_bytes(cert, earlier.packet());
    put_bytes(cert, self.packet());
  }
  return openpgp::armor(openpgp::ArmorKind::public_key, cert);
}

}  // namespace catsign::cli
