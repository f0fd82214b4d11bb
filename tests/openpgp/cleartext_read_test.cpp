// SPDX-License-Identifier: Apache-2.0
// The cleartext signature framework, read side: gpg's output parsed and its text recovered;
// header and structure errors refused naming the line.
#include <gtest/gtest.h>

#include "catsign/error.hpp"
#include "catsign/openpgp/cleartext.hpp"
#include "catsign/openpgp/document_hasher.hpp"
#include "gpg_vectors.hpp"

namespace catsign::openpgp {
namespace {

using testing::GpgVectors;

Errc code_of(std::string_view text, std::string* message = nullptr) {
  try {
    parse_cleartext(text);
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return Errc::internal;  // "no error"
}

// What gpg signs for a file: the final line ending is dropped, CR LF becomes LF, trailing
// spaces and tabs are not signed.
std::string expected_text(std::string s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
    if (s[i] == '\n') {
      while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
    }
    out.push_back(s[i]);
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  return out;
}

const std::string& gpg_clearsigned(const std::string& name, const std::string& text) {
  static std::map<std::string, std::string> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    const auto& v = GpgVectors::get();
    auto path = v.write("clear-" + name + ".txt", text);
    it = cache.emplace(name, v.sign("clear-" + name + ".asc", {"--clearsign"}, path)).first;
  }
  return it->second;
}

TEST(CleartextRead, GpgMessagesParseAndGiveBackTheText) {
  for (const auto& [name, text] : testing::sample_texts()) {
    const std::string& signed_text = gpg_clearsigned(name, text);
    CleartextMessage m = parse_cleartext(signed_text);
    EXPECT_EQ(m.text, expected_text(text)) << name;
    EXPECT_FALSE(m.signature.empty());
    ASSERT_FALSE(m.hashes.empty());
    EXPECT_EQ(m.hash, m.hashes.front());
  }
}

TEST(CleartextRead, HashHeaderForms) {
  const std::string base = gpg_clearsigned("plain", "line one\nline two\n");
  const std::size_t hash_line = base.find("Hash: ");
  const std::size_t eol = base.find('\n', hash_line);
  auto with_header = [&](const std::string& header) {
    return base.substr(0, hash_line) + header + base.substr(eol);
  };
  CleartextMessage m = parse_cleartext(with_header("Hash: SHA256, SHA512"));
  EXPECT_EQ(m.hashes, (std::vector<HashAlgorithm>{HashAlgorithm::sha256, HashAlgorithm::sha512}));
  m = parse_cleartext(with_header("Hash: SHA512\nHash: SHA256"));
  EXPECT_EQ(m.hashes, (std::vector<HashAlgorithm>{HashAlgorithm::sha512, HashAlgorithm::sha256}));
  m = parse_cleartext(with_header("Hash: SHA1,SHA256"));
  EXPECT_EQ(m.hashes, (std::vector<HashAlgorithm>{HashAlgorithm::sha256}));

  std::string msg;
  EXPECT_EQ(code_of(base.substr(0, hash_line) + base.substr(eol + 1), &msg), Errc::unsupported);
  EXPECT_NE(msg.find("MD5"), std::string::npos) << msg;
  EXPECT_EQ(code_of(with_header("Hash: SHA1"), &msg), Errc::unsupported);
  EXPECT_NE(msg.find("SHA1 signatures are not accepted"), std::string::npos) << msg;
  EXPECT_EQ(code_of(with_header("Hash: MD5"), &msg), Errc::unsupported);
  EXPECT_EQ(code_of(with_header("Hash: WHIRLPOOL"), &msg), Errc::malformed);
  EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
  EXPECT_EQ(code_of(with_header("Comment: hi"), &msg), Errc::malformed);
}

TEST(CleartextRead, StructureErrorsAreRefused) {
  const std::string base = gpg_clearsigned("plain", "line one\nline two\n");
  std::string msg;
  EXPECT_EQ(code_of(""), Errc::malformed);
  EXPECT_EQ(code_of("hello\n" + base, &msg), Errc::malformed);
  EXPECT_NE(msg.find("line 1"), std::string::npos) << msg;
  EXPECT_EQ(code_of(base + "appended text\n", &msg), Errc::malformed);
  EXPECT_NE(msg.find("text after the signature"), std::string::npos) << msg;
  EXPECT_EQ(code_of(base.substr(0, base.find("-----BEGIN PGP SIGNATURE")), &msg), Errc::malformed);
  EXPECT_EQ(code_of(base.substr(0, base.find("-----END PGP SIGNATURE")), &msg), Errc::malformed);
  std::string unescaped = base;
  unescaped.replace(unescaped.find("line one"), 8, "-ine one");
  EXPECT_EQ(code_of(unescaped, &msg), Errc::malformed);
  EXPECT_NE(msg.find("line 4"), std::string::npos) << msg;
  std::string bad_crc = base;
  const std::size_t crc = bad_crc.find("\n=") + 2;
  bad_crc[crc] = bad_crc[crc] == 'A' ? 'B' : 'A';
  EXPECT_EQ(code_of(bad_crc, &msg), Errc::malformed);
  EXPECT_NE(msg.find("CRC"), std::string::npos) << msg;
  for (std::size_t len = 0; len < base.size(); ++len) {
    const Errc c = code_of(base.substr(0, len));
    EXPECT_TRUE(c == Errc::malformed || c == Errc::unsupported || len + 1 >= base.size()) << len;
  }
  EXPECT_EQ(code_of(base + "\n\n"), Errc::internal);  // blank lines after the block are fine
}

TEST(CleartextRead, CrLfMessageParsesLikeLf) {
  std::string base = gpg_clearsigned("trailing", testing::sample_texts()[3].second);
  std::string crlf;
  for (char c : base) {
    if (c == '\n') crlf.push_back('\r');
    crlf.push_back(c);
  }
  CleartextMessage a = parse_cleartext(base);
  CleartextMessage b = parse_cleartext(crlf);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.signature, b.signature);
}

TEST(CleartextRead, HashingCanonicalisesAsRfc4880Section71) {
  auto digest = [](std::string_view text) {
    DocumentHasher h(HashAlgorithm::sha256, SignatureType::text);
    hash_cleartext_text(h, text);
    Signature sig;
    sig.type = SignatureType::text;
    return h.finish(sig);
  };
  auto raw = [](std::string_view bytes) {
    DocumentHasher h(HashAlgorithm::sha256, SignatureType::binary);
    h.update(as_bytes(bytes));
    Signature sig;
    sig.type = SignatureType::text;
    return h.finish(sig);
  };
  EXPECT_EQ(digest("a  \t\nb\t\r\nc "), raw("a\r\nb\r\nc"));
  EXPECT_EQ(digest(""), raw(""));
  EXPECT_EQ(digest("x\n"), raw("x\r\n"));
  EXPECT_EQ(digest("\n\n"), raw("\r\n\r\n"));
}

}  // namespace
}  // namespace catsign::openpgp
