// SPDX-License-Identifier: Apache-2.0
// ASCII armor (RFC 4880 §6.2, RFC 9580 §6.2): Base64 wrapped at 64 columns and a CRC-24 line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catsign/util/bytes.hpp"

namespace catsign::openpgp {

enum class ArmorKind { signature, public_key, message };

// "PGP SIGNATURE", "PGP PUBLIC KEY BLOCK", "PGP MESSAGE".
const char* armor_label(ArmorKind kind) noexcept;

// The Base64 body lines (64 columns) and the "=XXXX" checksum line, each ending in LF.
std::string armor_body(ByteView data);
std::string armor(ArmorKind kind, ByteView data);

struct Dearmored {
  ArmorKind kind;
  Bytes data;
};

// True when `data` starts (after whitespace) with "-----BEGIN PGP ".
bool looks_armored(ByteView data);

// Decodes one armored block. Header lines ("Version: ...", "Comment: ...") are skipped; the
// CRC-24 is checked when present (RFC 9580 makes it optional); CR LF line endings are fine.
// Bad Base64, a CRC mismatch, a missing or mismatched END line, or an unknown label is
// refused with Error(malformed) naming the line.
Dearmored dearmor(std::string_view text);

// Every armored block in `text`, in order (a keyring made by concatenating .asc files);
// only blank lines may come before, between and after them. Errors as for dearmor.
std::vector<Dearmored> dearmor_all(std::string_view text);

// Binary input passes through; armored input is decoded and must be of `expected` kind.
Bytes dearmor_if_needed(ByteView data, ArmorKind expected);

}  // namespace catsign::openpgp
