// SPDX-License-Identifier: Apache-2.0
// OpenPGP packet framing, and the signature and public-key packets inside it; also the
// detached-signature reader the verifier uses (armored or binary).
#include "catsign/openpgp/packet.hpp"
#include "catsign/openpgp/public_key.hpp"
#include "catsign/openpgp/signature.hpp"
#include "catsign/openpgp/verify.hpp"
#include "fuzz.hpp"

using namespace catsign;
using namespace catsign::openpgp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView input = fuzz::as_view(data, size);
  fuzz::expect_only_error([&] {
    for (const Packet& p : parse_packets(input)) {
      if (p.body.size() > kMaxPacketBody) fuzz::broken("packet body over kMaxPacketBody");
      if (p.tag == static_cast<std::uint8_t>(PacketTag::signature)) {
        fuzz::expect_only_error([&] {
          Signature s = parse_signature(p.body);
          (void)s.creation_time();
          (void)s.issuer_fingerprint();
          (void)s.issuer_key_id();
          (void)s.notations();
          // A parsed signature writes back to a body that parses to the same signature.
          if (parse_signature(s.body()) != s) fuzz::broken("parse_signature(s.body()) != s");
        });
      } else if (p.tag == static_cast<std::uint8_t>(PacketTag::public_key) ||
                 p.tag == static_cast<std::uint8_t>(PacketTag::public_subkey)) {
        fuzz::expect_only_error([&] {
          PublicKey k = parse_public_key(p.body);
          (void)format_fingerprint(k.fingerprint());
          (void)format_key_id(k.key_id());
          if (parse_public_key(k.body()) != k) fuzz::broken("parse_public_key(k.body()) != k");
        });
      }
    }
  });
  // The packet parsers also see bodies with no framing at all.
  fuzz::expect_only_error([&] { parse_signature(input); });
  fuzz::expect_only_error([&] { parse_public_key(input); });
  fuzz::expect_only_error([&] { read_document_signature(input); });
  return 0;
}
