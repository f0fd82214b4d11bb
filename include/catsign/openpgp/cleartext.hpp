// SPDX-License-Identifier: Apache-2.0
// The cleartext signature framework (RFC 4880 §7, RFC 9580 §7): the text stays readable, the
// signature follows it. OpenCSW's deployed pkgutil requires this form for a catalog.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catsign/openpgp/document_hasher.hpp"
#include "catsign/openpgp/signature.hpp"
#include "catsign/util/file.hpp"

namespace catsign::openpgp {

// The first line of a cleartext-signed message (RFC 4880 §7).
inline constexpr std::string_view kCleartextBegin = "-----BEGIN PGP SIGNED MESSAGE-----";

// Streams a text into a cleartext-signed message. Writes the header with exactly one "Hash:"
// line and one blank line (as OpenCSW's tools expect), dash-escapes lines that begin with '-'
// or "From ", and feeds the hasher the canonical text: trailing spaces and tabs removed, lines
// joined by CR LF, no line ending after the last line (RFC 4880 §7.1). Each output line ends
// in LF; a CR before the LF is taken as part of the line ending. Trailing blanks, which the
// signature does not cover, are left out of the output too.
class CleartextWriter {
 public:
  CleartextWriter(FileWriter& out, HashAlgorithm hash);
  void update(ByteView text);
  // Ends the text and returns the hasher (type 0x01) to be signed. Then call write_signature.
  DocumentHasher finish_text();
  void write_signature(const Signature& signature);
  // Several signatures of the same text go in one armored block (RFC 4880 §7).
  void write_signatures(std::span<const Signature> signatures);

 private:
  void emit_line(ByteView line);
  FileWriter& out_;
  DocumentHasher hasher_;
  Bytes line_;
  bool any_line_ = false;
};

struct CleartextMessage {
  HashAlgorithm hash = HashAlgorithm::sha256;  // from the Hash: header (default MD5 refused)
  // Every accepted hash the Hash: header(s) name, in order (hash is the first); a signature
  // must use one of them.
  std::vector<HashAlgorithm> hashes;
  std::string text;   // the signed text, dash-escaping removed, lines joined by LF; trailing
                      // spaces and tabs are dropped, as they are not signed (RFC 4880 §7.1)
  Bytes signature;    // the binary signature packets from the armored block
};

// Parses a cleartext-signed message. Refuses, naming the line: no BEGIN line, an unknown or
// missing Hash: value, text after the signature, a missing or malformed signature block.
CleartextMessage parse_cleartext(std::string_view message);

// Hashes `text` (LF- or CRLF-separated lines) the way §7.1 canonicalises it for verification.
void hash_cleartext_text(DocumentHasher& hasher, std::string_view text);

}  // namespace catsign::openpgp
