// SPDX-License-Identifier: Apache-2.0
// SHA-256 of bytes in memory, for audit records, the audit chain and file checks. Streams are
// hashed where they are read (signing/pipeline.hpp); this is for what is already whole.
#pragma once

#include <string>

#include "catsign/util/bytes.hpp"

namespace catsign {

Bytes sha256(ByteView data);
std::string sha256_hex(ByteView data);  // lowercase, as sha256sum prints it
inline std::string sha256_hex(std::string_view text) { return sha256_hex(as_bytes(text)); }

}  // namespace catsign
