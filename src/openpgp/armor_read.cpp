// SPDX-License-Identifier: Apache-2.0
// ASCII armor, read side (RFC 4880 §6.2, RFC 9580 §6.2). Lenient where GnuPG is lenient
// (header lines, any number of blank lines before or inside the body, CR LF, trailing blanks,
// a missing blank line after the headers, an absent CRC), strict about what carries meaning:
// the label, the Base64, the CRC-24 when present, and the END line.
#include <botan/base64.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"

namespace catsign::openpgp {
namespace {

struct Line {
  std::string_view text;  // without the line ending and trailing spaces and tabs
  std::size_t number;     // 1-based
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  std::size_t number = 1;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    lines.push_back({line, number++});
    pos = end + 1;
  }
  return lines;
}

[[noreturn]] void fail(std::size_t line, const std::string& what) {
  throw Error(Errc::malformed, "armor, line " + std::to_string(line) + ": " + what);
}

constexpr std::string_view kDashes = "-----";

// "PGP SIGNATURE" from "-----BEGIN PGP SIGNATURE-----", or nothing.
std::optional<std::string_view> boundary_label(std::string_view line, std::string_view word) {
  if (line.size() < 2 * kDashes.size() + word.size() + 1) return std::nullopt;
  if (line.substr(0, kDashes.size()) != kDashes) return std::nullopt;
  line.remove_prefix(kDashes.size());
  if (line.substr(0, word.size()) != word || line[word.size()] != ' ') return std::nullopt;
  line.remove_prefix(word.size() + 1);
  if (line.size() < kDashes.size() || line.substr(line.size() - kDashes.size()) != kDashes) {
    return std::nullopt;
  }
  line.remove_suffix(kDashes.size());
  return line;
}

ArmorKind kind_for_label(std::string_view label, std::size_t line) {
  for (ArmorKind k : {ArmorKind::signature, ArmorKind::public_key, ArmorKind::message}) {
    if (label == armor_label(k)) return k;
  }
  if (label == "PGP PRIVATE KEY BLOCK" || label == "PGP SECRET KEY BLOCK") {
    fail(line, "this is a private key block; give catsign the public certificate");
  }
  if (label == "PGP SIGNED MESSAGE") {
    fail(line, "this is a cleartext-signed message, not an armored block");
  }
  fail(line, "unknown armor label \"" + std::string(label.substr(0, 64)) + "\"");
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '/';
}

Bytes decode_base64(const std::string& b64, std::size_t first_line, std::size_t last_line) {
  try {
    // Straight into a plain buffer: the data is public, so no locked secure_vector per block.
    Bytes out(Botan::base64_decode_max_output(b64.size()));
    out.resize(Botan::base64_decode(out.data(), b64, false));
    return out;
  } catch (const std::exception& e) {
    throw Error(Errc::malformed, "armor, lines " + std::to_string(first_line) + "-" +
                                     std::to_string(last_line) + ": bad Base64 (" + e.what() +
                                     ")");
  }
}

// The armor checksum of RFC 4880 §6.1 (CRC-24, generator 0x864CFB, initial value 0xB704CE),
// a byte at a time through a table of the generator's multiples; big-endian, three octets.
std::array<std::uint8_t, 3> crc24(ByteView data) {
  static constexpr auto kTable = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t crc = i << 16;
      for (int bit = 0; bit < 8; ++bit) crc = (crc << 1) ^ ((crc & 0x800000) ? 0x864CFB : 0);
      t[i] = crc & 0xFFFFFF;
    }
    return t;
  }();
  std::uint32_t crc = 0xB704CE;
  for (std::uint8_t octet : data) crc = ((crc << 8) & 0xFFFFFF) ^ kTable[((crc >> 16) ^ octet) & 0xFF];
  return {static_cast<std::uint8_t>(crc >> 16), static_cast<std::uint8_t>(crc >> 8), static_cast<std::uint8_t>(crc)};
}

// Decodes the block whose BEGIN line is lines[i]; returns the index after its END line.
std::size_t decode_block(const std::vector<Line>& lines, std::size_t i, Dearmored& out) {
  const std::size_t begin_line = lines[i].number;
  const auto label = boundary_label(lines[i].text, "BEGIN");
  if (!label) fail(begin_line, "expected an armor BEGIN line");
  out.kind = kind_for_label(*label, begin_line);
  ++i;

  // Armor headers ("Version: ...", "Comment: ..."): a Base64 line never holds a colon.
  while (i < lines.size() && lines[i].text.find(':') != std::string_view::npos) {
    if (boundary_label(lines[i].text, "END")) break;
    ++i;
  }

  std::string b64;
  std::size_t body_first = 0;
  std::size_t body_last = 0;
  bool padded = false;
  std::optional<Line> crc_line;
  for (;; ++i) {
    if (i >= lines.size()) {
      fail(lines.empty() ? 1 : lines.back().number,
           "no END line for " + std::string(armor_label(out.kind)));
    }
    const Line& line = lines[i];
    if (line.text.empty()) continue;
    if (line.text.substr(0, kDashes.size()) == kDashes) break;
    if (crc_line) fail(line.number, "text after the CRC line");
    if (line.text[0] == '=') {
      crc_line = line;
      continue;
    }
    if (padded) fail(line.number, "Base64 continues after padding");
    for (std::size_t k = 0; k < line.text.size(); ++k) {
      const char c = line.text[k];
      if (c == '=') {
        const std::string_view rest = line.text.substr(k);
        if (rest != "=" && rest != "==") fail(line.number, "bad Base64 padding");
        padded = true;
        break;
      }
      if (!is_base64_char(c)) {
        fail(line.number, "bad Base64 character (octet " + std::to_string(static_cast<unsigned char>(c)) + ")");
      }
    }
    if (body_first == 0) body_first = line.number;
    body_last = line.number;
    b64.append(line.text);
  }

  const Line& end = lines[i];
  const auto end_label = boundary_label(end.text, "END");
  if (!end_label) fail(end.number, "expected the END line");
  if (*end_label != *label) {
    fail(end.number, "END line says \"" + std::string(end_label->substr(0, 64)) +
                         "\", BEGIN said \"" + std::string(*label) + "\"");
  }
  if (b64.empty()) fail(end.number, "the armored block holds no data");
  if (b64.size() % 4 != 0) fail(body_last, "Base64 length is not a multiple of 4");
  out.data = decode_base64(b64, body_first, body_last);

  if (crc_line) {
    const std::string_view crc_text = crc_line->text.substr(1);
    if (crc_text.size() != 4 ||
        !std::all_of(crc_text.begin(), crc_text.end(), is_base64_char)) {
      fail(crc_line->number, "malformed CRC-24 line");
    }
    const Bytes expected = decode_base64(std::string(crc_text), crc_line->number, crc_line->number);
    const auto actual = crc24(out.data);
    if (!std::equal(expected.begin(), expected.end(), actual.begin(), actual.end())) {
      fail(crc_line->number, "CRC-24 mismatch: the armored data is damaged");
    }
  }
  return i + 1;
}

std::size_t skip_blank(const std::vector<Line>& lines, std::size_t i) {
  while (i < lines.size() && lines[i].text.find_first_not_of(" \t\r") == std::string_view::npos) {
    ++i;
  }
  return i;
}

}  // namespace

bool looks_armored(ByteView data) {
  std::size_t i = 0;
  while (i < data.size() && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
                             data[i] == '\n')) {
    ++i;
  }
  constexpr std::string_view kBegin = "-----BEGIN PGP ";
  if (data.size() - i < kBegin.size()) return false;
  return std::equal(kBegin.begin(), kBegin.end(), data.begin() + static_cast<std::ptrdiff_t>(i));
}

std::vector<Dearmored> dearmor_all(std::string_view text) {
  const std::vector<Line> lines = split_lines(text);
  std::vector<Dearmored> blocks;
  std::size_t i = skip_blank(lines, 0);
  if (i == lines.size()) throw Error(Errc::malformed, "armor: the input is empty");
  while (i < lines.size()) {
    Dearmored block;
    i = decode_block(lines, i, block);
    blocks.push_back(std::move(block));
    i = skip_blank(lines, i);
  }
  return blocks;
}

Dearmored dearmor(std::string_view text) {
  const std::vector<Line> lines = split_lines(text);
  std::size_t i = skip_blank(lines, 0);
  if (i == lines.size()) throw Error(Errc::malformed, "armor: the input is empty");
  Dearmored block;
  i = skip_blank(lines, decode_block(lines, i, block));
  if (i != lines.size()) fail(lines[i].number, "text after the END line");
  return block;
}

Bytes dearmor_if_needed(ByteView data, ArmorKind expected) {
  if (!looks_armored(data)) return Bytes(data.begin(), data.end());
  Dearmored d = dearmor(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  if (d.kind != expected) {
    throw Error(Errc::malformed, std::string("armor: expected a ") + armor_label(expected) +
                                     " block, found a " + armor_label(d.kind) + " block");
  }
  return std::move(d.data);
}

}  // namespace catsign::openpgp
