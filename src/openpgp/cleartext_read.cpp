// SPDX-License-Identifier: Apache-2.0
// The cleartext signature framework, read side (RFC 4880 §7, §7.1; RFC 9580 §7). The text is
// dash-unescaped; the Hash: header(s) must name SHA256 or SHA512 (no header means MD5, which is
// refused); the signature block must be the last thing in the message.
#include <string>
#include <vector>

#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/cleartext.hpp"
#include "hash_names.hpp"

namespace catsign::openpgp {
namespace {

[[noreturn]] void fail(std::size_t line, const std::string& what,
                       Errc code = Errc::malformed) {
  throw Error(code, "cleartext message, line " + std::to_string(line) + ": " + what);
}

std::string_view strip_trailing_blanks(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return strip_trailing_blanks(s);
}

// Splits on LF; each view excludes the LF. A final LF does not start another line.
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : text_(text) {}
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    start_ = pos_;
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++number_;
    return true;
  }
  std::size_t number() const noexcept { return number_; }
  std::size_t start() const noexcept { return start_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t start_ = 0;
  std::size_t number_ = 0;
};

constexpr std::string_view kBeginSignature = "-----BEGIN PGP SIGNATURE-----";
constexpr std::string_view kEndSignature = "-----END PGP SIGNATURE-----";

}  // namespace

CleartextMessage parse_cleartext(std::string_view message) {
  LineCursor lines(message);
  std::string_view line;
  if (!lines.next(line) || strip_trailing_blanks(line) != kCleartextBegin) {
    fail(1, "not a cleartext-signed message: the first line must be " + std::string(kCleartextBegin));
  }

  // Armor headers up to the first empty line: only Hash: is meaningful here (§7).
  std::vector<std::uint8_t> named;
  for (;;) {
    if (!lines.next(line)) fail(lines.number(), "the message ends inside its header");
    line = strip_trailing_blanks(line);
    if (line.empty()) break;
    constexpr std::string_view kHash = "Hash:";
    if (line.substr(0, kHash.size()) != kHash) {
      fail(lines.number(), "unexpected header \"" + std::string(line.substr(0, 64)) +
                               "\"; only Hash: headers belong here");
    }
    std::string_view values = line.substr(kHash.size());
    while (!values.empty()) {
      const std::size_t comma = values.find(',');
      const std::string_view name = trim(values.substr(0, comma));
      values = comma == std::string_view::npos ? std::string_view{} : values.substr(comma + 1);
      const auto id = detail::hash_id_from_name(name);
      if (!id) {
        fail(lines.number(), "unknown hash \"" + std::string(name.substr(0, 64)) + "\"");
      }
      named.push_back(*id);
    }
  }
  const std::size_t header_end_line = lines.number();
  if (named.empty()) {
    fail(header_end_line,
         "no Hash: header, which means MD5: MD5 signatures are not accepted", Errc::unsupported);
  }
  CleartextMessage out;
  for (std::uint8_t id : named) {
    if (auto h = detail::accepted_hash(id)) out.hashes.push_back(*h);
  }
  if (out.hashes.empty()) {
    fail(header_end_line - 1,
         detail::hash_id_name(named.front()) +
             " signatures are not accepted: catsign accepts SHA256 and SHA512 only",
         Errc::unsupported);
  }
  out.hash = out.hashes.front();

  // The text, dash-unescaped, up to the signature block. The line ending before the block
  // belongs to the framework, not the text (§7.1).
  bool first = true;
  std::size_t signature_line = 0;
  std::size_t signature_start = 0;
  while (lines.next(line)) {
    // Trailing spaces and tabs are not signed (§7.1), so they are not part of the text.
    std::string_view content = strip_trailing_blanks(line);
    if (!content.empty() && content.front() == '-') {
      if (content == kBeginSignature) {
        signature_line = lines.number();
        signature_start = lines.start();
        break;
      }
      if (content.substr(0, 2) != "- ") {
        fail(lines.number(), "a line beginning with '-' is not dash-escaped");
      }
      content.remove_prefix(2);
    }
    if (!first) out.text.push_back('\n');
    out.text.append(content);
    first = false;
  }
  if (signature_line == 0) fail(lines.number(), "no BEGIN PGP SIGNATURE line after the text");

  // The signature block must end the message: only blank lines may follow its END line.
  bool ended = false;
  std::size_t signature_end = message.size();
  while (lines.next(line)) {
    const std::string_view stripped = strip_trailing_blanks(line);
    if (ended) {
      if (!trim(stripped).empty()) fail(lines.number(), "text after the signature");
      continue;
    }
    if (stripped == kEndSignature) {
      ended = true;
      signature_end = lines.start() + line.size();
    }
  }
  if (!ended) fail(lines.number(), "the signature block has no END PGP SIGNATURE line");

  try {
    Dearmored block = dearmor(message.substr(signature_start, signature_end - signature_start));
    if (block.kind != ArmorKind::signature) {
      fail(signature_line, "the signature block is not a PGP SIGNATURE");
    }
    out.signature = std::move(block.data);
  } catch (const Error& e) {
    if (e.code() != Errc::malformed) throw;
    throw Error(Errc::malformed, "cleartext message, signature block at line " +
                                     std::to_string(signature_line) + ": " + e.what());
  }
  return out;
}

void hash_cleartext_text(DocumentHasher& hasher, std::string_view text) {
  static constexpr std::uint8_t kCrLf[] = {'\r', '\n'};
  std::size_t pos = 0;
  for (;;) {
    std::size_t end = text.find('\n', pos);
    const bool last = end == std::string_view::npos;
    if (last) end = text.size();
    // §7.1: trailing spaces and tabs are not signed; CR belongs to the line ending.
    const std::string_view line = strip_trailing_blanks(text.substr(pos, end - pos));
    hasher.update(as_bytes(line));
    if (last) break;
    hasher.update(ByteView(kCrLf, 2));
    pos = end + 1;
  }
}

}  // namespace catsign::openpgp
