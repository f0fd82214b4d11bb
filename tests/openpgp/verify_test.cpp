// SPDX-License-Identifier: Apache-2.0
// Verification against signatures gpg made: detached (binary and armored, SHA256 and SHA512,
// binary and text mode) and cleartext over awkward texts; one flipped byte anywhere is caught.
#include <gtest/gtest.h>

#include "../support/memory_signer.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/cleartext.hpp"
#include "catsign/openpgp/signing.hpp"
#include "catsign/openpgp/verify.hpp"
#include "gpg_vectors.hpp"

namespace catsign::openpgp {
namespace {

using testing::GpgVectors;
using testing::to_bytes;

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

const Certificate& test_cert() {
  static const Certificate cert = parse_certificate(to_bytes(GpgVectors::get().cert_armored));
  return cert;
}

struct Detached {
  std::string name;
  std::vector<std::string> args;
};

const Detached kDetached[] = {
    {"bin256", {"--detach-sign", "--digest-algo", "SHA256"}},
    {"asc256", {"--detach-sign", "--armor", "--digest-algo", "SHA256"}},
    {"bin512", {"--detach-sign", "--digest-algo", "SHA512"}},
    {"asc512", {"--detach-sign", "--armor", "--digest-algo", "SHA512"}},
    {"text256", {"--detach-sign", "--textmode", "--digest-algo", "SHA256"}},
};

TEST(Verify, GpgDetachedSignaturesVerify) {
  const auto& v = GpgVectors::get();
  for (const auto& [text_name, text] : testing::sample_texts()) {
    auto data_path = v.write("d-" + text_name, text);
    for (const auto& d : kDetached) {
      const std::string sig = v.sign("d-" + text_name + "." + d.name, d.args, data_path);
      Verified ok = verify_detached(test_cert(), to_bytes(sig), to_bytes(text));
      EXPECT_EQ(format_fingerprint(ok.signer), v.fingerprint);
      EXPECT_EQ(ok.hash, d.name.ends_with("512") ? HashAlgorithm::sha512 : HashAlgorithm::sha256);
      EXPECT_EQ(ok.type, d.name.starts_with("text") ? SignatureType::text : SignatureType::binary);
      EXPECT_GT(ok.creation_time, 0u);
    }
  }
}

TEST(Verify, FlippedByteInDataOrSignatureIsRejected) {
  const auto& v = GpgVectors::get();
  const std::string text = "a catalog line\nanother line\n";
  auto data_path = v.write("flip-data", text);
  const Bytes sig = to_bytes(v.sign("flip.sig", {"--detach-sign", "--digest-algo", "SHA256"}, data_path));
  ASSERT_NO_THROW(verify_detached(test_cert(), sig, to_bytes(text)));
  for (std::size_t i = 0; i < text.size(); ++i) {
    Bytes data = to_bytes(text);
    data[i] ^= 0x01;
    EXPECT_EQ(code_of([&] { verify_detached(test_cert(), sig, data); }), Errc::bad_signature) << i;
  }
  Bytes longer = to_bytes(text + "x");
  EXPECT_EQ(code_of([&] { verify_detached(test_cert(), sig, longer); }), Errc::bad_signature);
  // Every byte of the signature packet: whatever the error, never accepted, never a crash,
  // except inside the unhashed subpackets, which the signature does not cover (flipping the
  // issuer key ID subpacket's type there leaves gpg's hashed issuer fingerprint in charge).
  const Bytes body = parse_packets(sig).at(0).body;
  const std::size_t header = sig.size() - body.size();
  const std::size_t hashed_len = (std::size_t{body[4]} << 8) | body[5];
  const std::size_t unhashed_len = (std::size_t{body[6 + hashed_len]} << 8) | body[7 + hashed_len];
  const std::size_t unhashed_begin = header + 8 + hashed_len;
  for (std::size_t i = 0; i < sig.size(); ++i) {
    Bytes s = sig;
    s[i] ^= 0x01;
    const Errc c = code_of([&] { verify_detached(test_cert(), s, to_bytes(text)); });
    if (c == Errc::internal) {
      EXPECT_TRUE(i >= unhashed_begin && i < unhashed_begin + unhashed_len)
          << "flipped signature byte " << i << " was accepted";
    }
  }
  for (std::size_t len = 0; len < sig.size(); ++len) {
    const Errc c = code_of([&] { verify_detached(test_cert(), ByteView(sig.data(), len), to_bytes(text)); });
    EXPECT_EQ(c, Errc::malformed) << len;
  }
}

TEST(Verify, HashLeft16MismatchIsBad) {
  const auto& v = GpgVectors::get();
  auto data_path = v.write("left16", "data\n");
  const Bytes sig_bytes = to_bytes(v.sign("left16.sig", {"--detach-sign"}, data_path));
  Signature sig = read_document_signature(sig_bytes);
  sig.hash_left16[0] ^= 0xff;
  std::string msg;
  EXPECT_EQ(code_of([&] {
              verify_document(test_cert(), sig, [](DocumentHasher& h) { h.update(as_bytes("data\n")); });
            }, &msg),
            Errc::bad_signature);
  EXPECT_NE(msg.find("does not match"), std::string::npos) << msg;
}

TEST(Verify, GpgCleartextSignaturesVerify) {
  const auto& v = GpgVectors::get();
  for (const auto& [text_name, text] : testing::sample_texts()) {
    for (const char* algo : {"SHA256", "SHA512"}) {
      auto path = v.write("c-" + text_name, text);
      const std::string message = v.sign("c-" + text_name + "." + algo + ".asc",
                                         {"--clearsign", "--digest-algo", algo}, path);
      std::string recovered;
      Verified ok;
      ASSERT_NO_THROW(ok = verify_cleartext(test_cert(), message, &recovered))
          << text_name << " " << algo << "\n" << message;
      EXPECT_EQ(ok.type, SignatureType::text);
      // gpg --decrypt gives the same text back (it adds the final newline back, we do not).
      auto r = v.gpg({"--decrypt", (v.dir() / ("c-" + text_name + "." + algo + ".asc")).string()});
      std::string gpg_text = r.out;
      if (!gpg_text.empty() && gpg_text.back() == '\n') gpg_text.pop_back();
      std::string ours;
      for (char c : recovered) ours += c;
      // gpg keeps the CR of CR LF lines; compare without them. Like gpg, we give back only
      // what is signed: no trailing blanks.
      std::erase(gpg_text, '\r');
      EXPECT_EQ(ours, gpg_text) << text_name;
    }
  }
}

TEST(Verify, TamperedCleartextIsRejected) {
  const auto& v = GpgVectors::get();
  auto path = v.write("ct-tamper", "release unstable\n- dashed\nlast\n");
  const std::string message = v.sign("ct-tamper.asc", {"--clearsign"}, path);
  ASSERT_NO_THROW(verify_cleartext(test_cert(), message));
  const std::size_t text_start = message.find("\n\n") + 2;
  const std::size_t text_end = message.find("-----BEGIN PGP SIGNATURE");
  for (std::size_t i = text_start; i < text_end; ++i) {
    std::string m = message;
    if (m[i] == '\n') continue;
    m[i] = m[i] == 'x' ? 'y' : 'x';
    const Errc c = code_of([&] { verify_cleartext(test_cert(), m); });
    EXPECT_TRUE(c == Errc::bad_signature || c == Errc::malformed) << i;
  }
  // Trailing blanks are not signed (RFC 4880 §7.1): adding some keeps it valid, like gpg.
  std::string blanks = message;
  blanks.insert(blanks.find("last") + 4, "  \t");
  EXPECT_NO_THROW(verify_cleartext(test_cert(), blanks));
  // The Hash: header must name the signature's hash.
  std::string wrong_header = message;
  const std::size_t h = wrong_header.find("Hash: ") + 6;
  wrong_header.replace(h, wrong_header.find('\n', h) - h,
                       message.find("SHA512") != std::string::npos ? "SHA256" : "SHA512");
  std::string msg;
  EXPECT_EQ(code_of([&] { verify_cleartext(test_cert(), wrong_header); }, &msg), Errc::bad_signature);
  EXPECT_NE(msg.find("Hash:"), std::string::npos) << msg;
}

TEST(Verify, Sha1SignatureIsRefusedByName) {
  const auto& v = GpgVectors::get();
  auto path = v.write("sha1", "data\n");
  std::string msg;
  const Bytes sig = to_bytes(v.sign("sha1.sig", {"--detach-sign", "--digest-algo", "SHA1"}, path));
  EXPECT_EQ(code_of([&] { verify_detached(test_cert(), sig, to_bytes("data\n")); }, &msg),
            Errc::unsupported);
  EXPECT_NE(msg.find("SHA1"), std::string::npos) << msg;
  const std::string clear = v.sign("sha1.asc", {"--clearsign", "--digest-algo", "SHA1"}, path);
  EXPECT_EQ(code_of([&] { verify_cleartext(test_cert(), clear); }, &msg), Errc::unsupported);
  EXPECT_NE(msg.find("SHA1"), std::string::npos) << msg;
}

TEST(Verify, SignatureByAnotherKeyIsRejectedNamingIt) {
  const auto& v = GpgVectors::get();
  auto path = v.write("other", "data\n");
  auto r = v.gpg({"--yes", "--local-user", v.other_fingerprint, "--detach-sign", "--output",
                  (v.dir() / "other.sig").string(), path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Bytes sig = to_bytes(testing::read_text(v.dir() / "other.sig"));
  std::string msg;
  EXPECT_EQ(code_of([&] { verify_detached(test_cert(), sig, to_bytes("data\n")); }, &msg),
            Errc::bad_signature);
  EXPECT_NE(msg.find(v.other_fingerprint), std::string::npos) << msg;
  // And with the issuer subpackets rewritten to claim our key, the RSA check still fails.
  Signature forged = read_document_signature(sig);
  forged.hashed.clear();
  forged.hashed.push_back(creation_time_subpacket(*read_document_signature(sig).creation_time()));
  forged.hashed.push_back(issuer_fingerprint_subpacket(test_cert().fingerprint));
  forged.unhashed.clear();
  EXPECT_EQ(code_of([&] {
              verify_document(test_cert(), forged, [](DocumentHasher& h) { h.update(as_bytes("data\n")); });
            }),
            Errc::bad_signature);
}

TEST(Verify, RevokedKeyIsRefused) {
  const auto& v = GpgVectors::get();
  auto path = v.write("revoked-data", "data\n");
  const Bytes sig = to_bytes(v.sign("revoked.sig", {"--detach-sign"}, path));
  Certificate cert = test_cert();
  cert.revocations.push_back(parse_revocation_for(cert, to_bytes(v.revocation_armored)));
  std::string msg;
  EXPECT_EQ(code_of([&] { verify_detached(cert, sig, to_bytes("data\n")); }, &msg),
            Errc::bad_signature);
  EXPECT_NE(msg.find("revoked"), std::string::npos) << msg;
}

TEST(Verify, SubpacketRulesAreEnforced) {
  const auto& v = GpgVectors::get();
  auto path = v.write("rules", "data\n");
  const Signature good = read_document_signature(to_bytes(v.sign("rules.sig", {"--detach-sign"}, path)));
  auto check = [&](const Signature& s) {
    return code_of([&] {
      verify_document(test_cert(), s, [](DocumentHasher& h) { h.update(as_bytes("data\n")); });
    });
  };
  ASSERT_EQ(check(good), Errc::internal);
  Signature s = good;
  s.hashed.push_back(Subpacket{100, true, {1}});
  EXPECT_EQ(check(s), Errc::bad_signature);  // unknown critical, hashed
  s = good;
  s.unhashed.push_back(Subpacket{101, true, {1}});
  EXPECT_EQ(check(s), Errc::bad_signature);  // unknown critical, unhashed
  s = good;
  s.unhashed.push_back(Subpacket{101, false, {1}});
  EXPECT_EQ(check(s), Errc::internal);  // unknown, not critical: fine
  s = good;
  std::erase_if(s.hashed, [](const Subpacket& sp) { return sp.type == 2; });
  EXPECT_EQ(check(s), Errc::bad_signature);  // no creation time
  s = good;
  std::erase_if(s.hashed, [](const Subpacket& sp) { return sp.type == 33; });
  std::erase_if(s.unhashed, [](const Subpacket& sp) { return sp.type == 16; });
  EXPECT_EQ(check(s), Errc::bad_signature);  // no issuer
  s = good;
  s.type = SignatureType::positive_certification;
  EXPECT_EQ(check(s), Errc::bad_signature);
}

TEST(Verify, ReadDocumentSignatureRefusesOtherPackets) {
  const auto& v = GpgVectors::get();
  auto path = v.write("inline", "data\n");
  std::string msg;
  const Bytes signed_message = to_bytes(v.sign("inline.gpg", {"--sign"}, path));
  EXPECT_EQ(code_of([&] { read_document_signature(signed_message); }, &msg), Errc::malformed);
  EXPECT_EQ(code_of([&] { read_document_signature(v.cert_binary); }), Errc::malformed);
  EXPECT_EQ(code_of([&] { read_document_signature(to_bytes(v.cert_armored)); }), Errc::malformed);
  EXPECT_EQ(code_of([&] { read_document_signature({}); }), Errc::malformed);
  const Bytes sig = to_bytes(v.sign("two.sig", {"--detach-sign"}, path));
  Bytes two = sig;
  two.insert(two.end(), sig.begin(), sig.end());
  EXPECT_EQ(code_of([&] { read_document_signature(two); }, &msg), Errc::malformed);
  EXPECT_NE(msg.find("exactly one"), std::string::npos) << msg;
}

// Our writer's output is accepted by our reader (and by gpg, in writer_test).
TEST(Verify, ReadsCatsignsOwnSignaturesAndCertificates) {
  testing::MemorySigner signer(2048);
  PublicKey key;
  key.creation_time = 1700000000;
  key.material = signer.public_key();
  OpenPgpKey pgp(signer, key);
  SignOptions options;
  options.creation_time = 1700000100;
  options.notations.push_back({"catalog@catsign", "unstable/i386/5.10", true});
  const Bytes cert_bytes = make_certificate(pgp, "Catalog <c@example.org>", options);
  Certificate cert = parse_certificate(cert_bytes);
  EXPECT_EQ(cert.fingerprint, pgp.fingerprint());
  EXPECT_EQ(parse_certificate(to_bytes(armor(ArmorKind::public_key, cert_bytes))).fingerprint,
            cert.fingerprint);

  for (HashAlgorithm hash : {HashAlgorithm::sha256, HashAlgorithm::sha512}) {
    options.hash = hash;
    DocumentHasher hasher(hash, SignatureType::binary);
    hasher.update(as_bytes("catalog\n"));
    Signature sig = pgp.sign_document(std::move(hasher), options);
    Verified ok = verify_detached(cert, sig.packet(), to_bytes("catalog\n"));
    EXPECT_EQ(ok.hash, hash);
    EXPECT_EQ(ok.creation_time, 1700000100u);
    ASSERT_EQ(ok.notations.size(), 1u);
    EXPECT_EQ(ok.notations[0].value, "unstable/i386/5.10");
    EXPECT_EQ(code_of([&] { verify_detached(cert, sig.packet(), to_bytes("catalog\r\n")); }),
              Errc::bad_signature);
    EXPECT_NO_THROW(verify_detached(cert, to_bytes(armor(ArmorKind::signature, sig.packet())),
                                    to_bytes("catalog\n")));
  }

  Signature rev = pgp.revoke_key(RevocationReason::retired, "test", options);
  EXPECT_NO_THROW(parse_revocation_for(cert, rev.packet()));
  EXPECT_NO_THROW(parse_revocation_for(cert, to_bytes(armor(ArmorKind::signature, rev.packet()))));

  options.hash = HashAlgorithm::sha256;
  for (const auto& [name, text] : testing::sample_texts()) {
    struct StringWriter : FileWriter {
      std::string s;
      void write(ByteView d) override { s.append(d.begin(), d.end()); }
    } out;
    CleartextWriter writer(out, HashAlgorithm::sha256);
    writer.update(as_bytes(text));
    Signature sig = pgp.sign_document(writer.finish_text(), options);
    writer.write_signature(sig);
    std::string recovered;
    EXPECT_NO_THROW(verify_cleartext(cert, out.s, &recovered)) << name << "\n" << out.s;
  }
}

}  // namespace
}  // namespace catsign::openpgp
