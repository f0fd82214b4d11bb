// SPDX-License-Identifier: Apache-2.0
// Reading certificates: gpg's exports give gpg's fingerprint, self-signatures are checked,
// revocations are honoured, unsupported keys are refused by name.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/certificate.hpp"
#include "gpg_vectors.hpp"

namespace catsign::openpgp {
namespace {

using testing::GpgVectors;
using testing::to_bytes;

Bytes read_opencsw(const char* name) {
  std::ifstream f(std::string(CATSIGN_SOURCE_DIR "/tests/data/opencsw/") + name, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return to_bytes(s.str());
}

template <typename F>
Errc code_of(F&& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return Errc::internal;  // "no error"
}

TEST(CertificateParse, GpgCertificateHasGpgsFingerprint) {
  const auto& v = GpgVectors::get();
  for (const Bytes& input : {to_bytes(v.cert_armored), v.cert_binary}) {
    Certificate cert = parse_certificate(input);
    EXPECT_EQ(format_fingerprint(cert.fingerprint), v.fingerprint);
    ASSERT_EQ(cert.user_ids.size(), 1u);
    EXPECT_EQ(cert.user_ids[0].user_id, "Test <t@example.org>");
    EXPECT_EQ(cert.user_ids[0].self_signatures.size(), 1u);
    EXPECT_FALSE(cert.revoked());
  }
}

TEST(CertificateParse, OpenCswDsaKeysAreRefusedNamingDsa) {
  for (const char* name : {"csw_catalog_signing_2011-09.asc", "csw_legacy_catalog_verification.asc"}) {
    std::string msg;
    EXPECT_EQ(code_of([&] { parse_certificate(read_opencsw(name)); }, &msg), Errc::unsupported)
        << name;
    EXPECT_NE(msg.find("DSA"), std::string::npos) << msg;
    EXPECT_NE(msg.find("RSA, ECDSA and EdDSA keys only"), std::string::npos) << msg;
    // Binary form too.
    const Bytes binary = dearmor_if_needed(read_opencsw(name), ArmorKind::public_key);
    EXPECT_EQ(code_of([&] { parse_certificate(binary); }), Errc::unsupported);
  }
}

TEST(CertificateParse, KeyringSkipsUnsupportedOnlyWhenAsked) {
  const auto& v = GpgVectors::get();
  const std::string dsa(reinterpret_cast<const char*>(read_opencsw("csw_catalog_signing_2011-09.asc").data()),
                        read_opencsw("csw_catalog_signing_2011-09.asc").size());
  const std::string ring = v.cert_armored + dsa + v.other_cert_armored;
  EXPECT_EQ(code_of([&] { parse_keyring(to_bytes(ring)); }), Errc::unsupported);
  auto certs = parse_keyring(to_bytes(ring), true);
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(format_fingerprint(certs[0].fingerprint), v.fingerprint);
  EXPECT_EQ(format_fingerprint(certs[1].fingerprint), v.other_fingerprint);
  // gpg's own keyring export of both keys: one armored block.
  auto both = v.gpg({"--armor", "--export", v.fingerprint, v.other_fingerprint});
  EXPECT_EQ(parse_keyring(to_bytes(both.out)).size(), 2u);
  std::string msg;
  EXPECT_EQ(code_of([&] { parse_certificate(to_bytes(both.out)); }, &msg), Errc::malformed);
  EXPECT_NE(msg.find("keyring"), std::string::npos) << msg;
}

TEST(CertificateParse, ForgedSelfSignatureIsDropped) {
  const auto& v = GpgVectors::get();
  auto packets = parse_packets(v.cert_binary);
  // Flip a byte of the RSA value of the self-signature: no valid self-certification remains.
  Bytes forged;
  for (auto& p : packets) {
    if (p.tag == 2) p.body[p.body.size() - 5] ^= 0x01;
    put_bytes(forged, encode_packet(static_cast<PacketTag>(p.tag), p.body));
  }
  std::string msg;
  EXPECT_EQ(code_of([&] { parse_certificate(forged); }, &msg), Errc::bad_signature);
  EXPECT_NE(msg.find("self-certification"), std::string::npos) << msg;
}

TEST(CertificateParse, SwappedUserIdIsNotCertified) {
  const auto& v = GpgVectors::get();
  auto packets = parse_packets(v.cert_binary);
  Bytes forged;
  for (auto& p : packets) {
    if (p.tag == 13) p.body = to_bytes("Mallory <m@example.org>");
    put_bytes(forged, encode_packet(static_cast<PacketTag>(p.tag), p.body));
  }
  EXPECT_EQ(code_of([&] { parse_certificate(forged); }), Errc::bad_signature);
}

TEST(CertificateParse, ThirdPartyCertificationsSubkeysAndAttributesAreSkipped) {
  const auto& v = GpgVectors::get();
  // A copy of the home where Other certifies Test, and Test gets an RSA encryption subkey.
  auto r = v.gpg({"--quick-add-key", v.fingerprint, "rsa2048", "encr", "never"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = v.gpg({"--local-user", v.other_fingerprint, "--quick-sign-key", v.fingerprint});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto exported = v.gpg({"--export", v.fingerprint});
  const Bytes data = to_bytes(exported.out);
  std::size_t subkeys = 0, signatures = 0;
  for (const auto& p : parse_packets(data)) {
    subkeys += p.tag == 14;
    signatures += p.tag == 2;
  }
  EXPECT_EQ(subkeys, 1u);
  EXPECT_GE(signatures, 3u);
  Certificate cert = parse_certificate(data);
  EXPECT_EQ(format_fingerprint(cert.fingerprint), v.fingerprint);
  ASSERT_EQ(cert.user_ids.size(), 1u);
  EXPECT_EQ(cert.user_ids[0].self_signatures.size(), 1u);  // Other's certification skipped
  // A trust packet and a marker packet are skipped too.
  Bytes with_junk = encode_packet(PacketTag::marker, to_bytes("PGP"));
  put_bytes(with_junk, data);
  put_bytes(with_junk, encode_packet(PacketTag::trust, Bytes{0, 0}));
  EXPECT_EQ(parse_certificate(with_junk).fingerprint, cert.fingerprint);
}

TEST(CertificateParse, GpgRevocationIsHonoured) {
  const auto& v = GpgVectors::get();
  Certificate cert = parse_certificate(to_bytes(v.cert_armored));
  Signature rev = parse_revocation_for(cert, to_bytes(v.revocation_armored));
  EXPECT_EQ(rev.type, SignatureType::key_revocation);
  // The certificate with the revocation merged (as after gpg --import of it) is revoked.
  Bytes merged;
  auto packets = parse_packets(v.cert_binary);
  put_bytes(merged, encode_packet(PacketTag::public_key, packets[0].body));
  put_bytes(merged, dearmor_if_needed(to_bytes(v.revocation_armored), ArmorKind::public_key));
  for (std::size_t i = 1; i < packets.size(); ++i) {
    put_bytes(merged, encode_packet(static_cast<PacketTag>(packets[i].tag), packets[i].body));
  }
  Certificate revoked = parse_certificate(merged);
  EXPECT_TRUE(revoked.revoked());
  // The revocation does not belong to another key.
  Certificate other = parse_certificate(to_bytes(v.other_cert_armored));
  EXPECT_EQ(code_of([&] { parse_revocation_for(other, to_bytes(v.revocation_armored)); }),
            Errc::bad_signature);
  // A document signature is not a revocation.
  auto data = v.write("rev-data", "x");
  std::string sig = v.sign("rev-data.sig", {"--detach-sign", "--armor"}, data);
  EXPECT_EQ(code_of([&] { parse_revocation_for(cert, to_bytes(sig)); }), Errc::malformed);
}

TEST(CertificateParse, ForgedRevocationIsIgnored) {
  const auto& v = GpgVectors::get();
  Bytes rev = dearmor_if_needed(to_bytes(v.revocation_armored), ArmorKind::public_key);
  rev[rev.size() - 3] ^= 0x40;
  auto packets = parse_packets(v.cert_binary);
  Bytes merged = encode_packet(PacketTag::public_key, packets[0].body);
  put_bytes(merged, rev);
  for (std::size_t i = 1; i < packets.size(); ++i) {
    put_bytes(merged, encode_packet(static_cast<PacketTag>(packets[i].tag), packets[i].body));
  }
  EXPECT_FALSE(parse_certificate(merged).revoked());
}

TEST(CertificateParse, MalformedInputIsRefusedNeverCrashes) {
  const auto& v = GpgVectors::get();
  EXPECT_EQ(code_of([] { parse_certificate({}); }), Errc::malformed);
  EXPECT_EQ(code_of([] { parse_certificate(to_bytes("garbage")); }), Errc::malformed);
  for (std::size_t len = 0; len < v.cert_binary.size(); ++len) {
    ByteView prefix(v.cert_binary.data(), len);
    const Errc c = code_of([&] { parse_certificate(prefix); });
    EXPECT_TRUE(c == Errc::malformed || c == Errc::bad_signature) << len;
  }
  // A signature where the key should be.
  auto data = v.write("c-data", "x");
  Bytes sig = to_bytes(v.sign("c-data.sig", {"--detach-sign"}, data));
  EXPECT_EQ(code_of([&] { parse_certificate(sig); }), Errc::malformed);
  // A secret key export.
  auto secret = v.gpg({"--export-secret-keys", v.fingerprint});
  std::string msg;
  EXPECT_EQ(code_of([&] { parse_certificate(to_bytes(secret.out)); }, &msg), Errc::malformed);
  EXPECT_NE(msg.find("secret"), std::string::npos) << msg;
}

}  // namespace
}  // namespace catsign::openpgp
