// SPDX-License-Identifier: Apache-2.0
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/cleartext.hpp"

namespace catsign::openpgp {

namespace {

bool is_blank(std::uint8_t c) { return c == ' ' || c == '\t'; }

bool needs_dash_escape(ByteView line) {
  // RFC 4880 §7.1: lines starting with '-' must be escaped; "From " lines may be, and are,
  // so that mail transport cannot mangle them into ">From ".
  static constexpr std::string_view from = "From ";
  if (!line.empty() && line[0] == '-') return true;
  return line.size() >= from.size() &&
         std::equal(from.begin(), from.end(), line.begin());
}

}  // namespace

CleartextWriter::CleartextWriter(FileWriter& out, HashAlgorithm hash)
    : out_(out), hasher_(hash, SignatureType::text) {
  // Exactly one Hash: line and one blank line: OpenCSW's older tools count on that layout.
  out_.write(kCleartextBegin);
  out_.write("\nHash: ");
  out_.write(hash_name(hash));
  out_.write("\n\n");
}

void CleartextWriter::update(ByteView text) {
  for (std::uint8_t c : text) {
    if (c == '\n') {
      emit_line(line_);
      line_.clear();
    } else {
      line_.push_back(c);
    }
  }
}

void CleartextWriter::emit_line(ByteView line) {
  if (!line.empty() && line.back() == '\r') line = line.first(line.size() - 1);
  // The signature ignores trailing spaces and tabs (§7.1), so they are not written either:
  // the text a reader sees is exactly the text that was signed.
  while (!line.empty() && is_blank(line.back())) line = line.first(line.size() - 1);
  if (needs_dash_escape(line)) out_.write("- ");
  out_.write(line);
  out_.write("\n");
  // The hash sees lines joined by CR LF, with no line ending after the last one (§7.1): so
  // the CR LF goes before every line but the first.
  if (any_line_) hasher_.update(as_bytes("\r\n"));
  hasher_.update(line);
  any_line_ = true;
}

DocumentHasher CleartextWriter::finish_text() {
  // A text without a final newline still ends its last line here; an empty text is one empty
  // line. Either way the message shows a line ending before the signature, which §7.1 excludes.
  if (!line_.empty() || !any_line_) emit_line(line_);
  line_.clear();
  return std::move(hasher_);
}

void CleartextWriter::write_signature(const Signature& signature) {
  write_signatures(std::span<const Signature>(&signature, 1));
}

void CleartextWriter::write_signatures(std::span<const Signature> signatures) {
  Bytes packets;
  for (const Signature& s : signatures) put_bytes(packets, s.packet());
  out_.write(armor(ArmorKind::signature, packets));
}

}  // namespace catsign::openpgp
