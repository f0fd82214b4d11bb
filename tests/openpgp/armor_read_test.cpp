// SPDX-License-Identifier: Apache-2.0
// ASCII armor, read side: what gpg writes and accepts is read; damage is refused with the line.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "gpg_vectors.hpp"

namespace catsign::openpgp {
namespace {

using testing::GpgVectors;
using testing::to_bytes;

std::string read_opencsw(const char* name) {
  std::ifstream f(std::string(CATSIGN_SOURCE_DIR "/tests/data/opencsw/") + name, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

Errc code_of(std::string_view text, std::string* message = nullptr) {
  try {
    dearmor(text);
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return Errc::internal;  // "no error"
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

TEST(ArmorRead, GpgExportDecodesToGpgsBinaryExport) {
  const auto& v = GpgVectors::get();
  EXPECT_TRUE(looks_armored(to_bytes(v.cert_armored)));
  EXPECT_FALSE(looks_armored(v.cert_binary));
  Dearmored d = dearmor(v.cert_armored);
  EXPECT_EQ(d.kind, ArmorKind::public_key);
  EXPECT_EQ(d.data, v.cert_binary);
  EXPECT_EQ(dearmor_if_needed(to_bytes(v.cert_armored), ArmorKind::public_key), v.cert_binary);
  EXPECT_EQ(dearmor_if_needed(v.cert_binary, ArmorKind::public_key), v.cert_binary);
}

TEST(ArmorRead, OpenCswKeysWithVersionHeaderAndBlankLineDecodeAsGpgDoes) {
  for (const char* name : {"csw_catalog_signing_2011-09.asc", "csw_legacy_catalog_verification.asc"}) {
    const std::string text = read_opencsw(name);
    ASSERT_FALSE(text.empty());
    Dearmored d = dearmor(text);
    EXPECT_EQ(d.kind, ArmorKind::public_key);
    // gpg --dearmor gives the same bytes.
    const auto path = GpgVectors::get().write(std::string(name) + ".copy", text);
    auto r = GpgVectors::get().gpg({"--dearmor", "--output", path.string() + ".bin", path.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(to_bytes(testing::read_text(path.string() + ".bin")), d.data) << name;
  }
}

TEST(ArmorRead, LenienciesGpgAlsoAccepts) {
  const std::string text = read_opencsw("csw_catalog_signing_2011-09.asc");
  const Bytes expected = dearmor(text).data;
  const std::string variants[] = {
      replace_all(text, "\n", "\r\n"),                                  // CR LF
      replace_all(text, "\n", "  \n"),                                  // trailing blanks
      replace_all(text, "(GNU/Linux)\n\n", "(GNU/Linux)\n\n\n"),        // two blank lines
      replace_all(text, "(GNU/Linux)\n\n", "(GNU/Linux)\n"),            // no blank line
      replace_all(text, "Version: GnuPG v1.4.5 (GNU/Linux)\n", ""),     // no header
      replace_all(text, "(GNU/Linux)\n", "(GNU/Linux)\nComment: hello: world\n"),
      "\n\n" + text + "\n\n",                                           // blank lines around
      replace_all(text, "\n=rIRT\n", "\n"),                             // no CRC (RFC 9580)
  };
  for (const auto& variant : variants) {
    EXPECT_EQ(dearmor(variant).data, expected) << variant.substr(0, 120);
  }
}

TEST(ArmorRead, DamageIsRefusedNamingTheLine) {
  const std::string text = read_opencsw("csw_catalog_signing_2011-09.asc");
  std::string msg;
  EXPECT_EQ(code_of(replace_all(text, "=rIRT", "=rIRU"), &msg), Errc::malformed);
  EXPECT_NE(msg.find("CRC"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 30"), std::string::npos) << msg;
  EXPECT_EQ(code_of(replace_all(text, "mQGiBE5d", "mQGi*E5d"), &msg), Errc::malformed);
  EXPECT_NE(msg.find("line 4"), std::string::npos) << msg;
  EXPECT_EQ(code_of(replace_all(text, "mQGiBE5d", "mQGiCE5d"), &msg), Errc::malformed);
  EXPECT_NE(msg.find("CRC"), std::string::npos) << msg;
  EXPECT_EQ(code_of(replace_all(text, "=rIRT", "=rIR"), &msg), Errc::malformed);
  EXPECT_EQ(code_of(replace_all(text, "=rIRT", "=rI!T"), &msg), Errc::malformed);
  EXPECT_EQ(code_of(replace_all(text, "-----END PGP PUBLIC KEY BLOCK-----", "-----END PGP SIGNATURE-----"),
                    &msg),
            Errc::malformed);
  EXPECT_NE(msg.find("END line"), std::string::npos) << msg;
  EXPECT_EQ(code_of(replace_all(text, "-----END PGP PUBLIC KEY BLOCK-----\n", ""), &msg),
            Errc::malformed);
  EXPECT_NE(msg.find("no END line"), std::string::npos) << msg;
  EXPECT_EQ(code_of(text + "trailing garbage\n", &msg), Errc::malformed);
  EXPECT_NE(msg.find("after the END"), std::string::npos) << msg;
  EXPECT_EQ(code_of(replace_all(text, "PUBLIC KEY BLOCK", "PRIVATE KEY BLOCK"), &msg), Errc::malformed);
  EXPECT_NE(msg.find("private key"), std::string::npos) << msg;
  EXPECT_EQ(code_of(replace_all(text, "PUBLIC KEY BLOCK", "FOO"), &msg), Errc::malformed);
  EXPECT_NE(msg.find("unknown armor label"), std::string::npos) << msg;
  // Padding in the middle, a missing quantum.
  EXPECT_EQ(code_of(replace_all(text, "mQGiBE5d", "mQ==BE5d")), Errc::malformed);
  EXPECT_EQ(code_of(replace_all(text, "mQGiBE5d", "mQGiBE5")), Errc::malformed);
}

TEST(ArmorRead, EmptyAndGarbageInputAreRefused) {
  EXPECT_EQ(code_of(""), Errc::malformed);
  EXPECT_EQ(code_of("\n\r\n  \n"), Errc::malformed);
  EXPECT_EQ(code_of("hello"), Errc::malformed);
  EXPECT_EQ(code_of("-----BEGIN PGP SIGNATURE-----"), Errc::malformed);
  EXPECT_EQ(code_of("-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n"),
            Errc::malformed);
  EXPECT_EQ(code_of("-----BEGIN PGP SIGNATURE-----\n\n=AAAA\n-----END PGP SIGNATURE-----\n"),
            Errc::malformed);
  EXPECT_EQ(code_of(std::string("-----BEGIN PGP SIGNATURE-----\n\nAA\0A\n-----END PGP SIGNATURE-----\n", 55)),
            Errc::malformed);
  EXPECT_FALSE(looks_armored({}));
  EXPECT_FALSE(looks_armored(to_bytes("-----BEGIN PG")));
}

TEST(ArmorRead, TruncationAtEveryOffsetNeverCrashes) {
  const std::string text = GpgVectors::get().cert_armored;
  for (std::size_t len = 0; len < text.size(); ++len) {
    const std::string prefix = text.substr(0, len);
    try {
      dearmor(prefix);
      // A cut exactly inside the trailing newline is still the whole block.
      EXPECT_GE(len, text.size() - 1);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::malformed) << len;
    }
  }
}

TEST(ArmorRead, DearmorIfNeededChecksTheKind) {
  const auto& v = GpgVectors::get();
  try {
    dearmor_if_needed(to_bytes(v.cert_armored), ArmorKind::signature);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::malformed);
    EXPECT_NE(std::string(e.what()).find("PGP SIGNATURE"), std::string::npos) << e.what();
  }
}

TEST(ArmorRead, DearmorAllReadsConcatenatedBlocks) {
  const auto& v = GpgVectors::get();
  auto blocks = dearmor_all(v.cert_armored + "\n" + v.other_cert_armored);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].data, v.cert_binary);
  EXPECT_THROW(dearmor(v.cert_armored + v.other_cert_armored), Error);
  EXPECT_THROW(dearmor_all(v.cert_armored + "junk\n" + v.other_cert_armored), Error);
}

TEST(ArmorRead, ReadsOurOwnWriter) {
  for (std::size_t n : {0u, 1u, 2u, 3u, 47u, 48u, 49u, 1000u}) {
    Bytes data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 1);
    if (n == 0) continue;  // an empty block is refused on read
    Dearmored d = dearmor(armor(ArmorKind::signature, data));
    EXPECT_EQ(d.kind, ArmorKind::signature);
    EXPECT_EQ(d.data, data) << n;
  }
}

}  // namespace
}  // namespace catsign::openpgp
