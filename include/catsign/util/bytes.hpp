// SPDX-License-Identifier: Apache-2.0
// Byte strings and their hex form. Knows nothing of the product.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace catsign {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Lowercase hex.
std::string to_hex(ByteView bytes);
// Accepts upper- and lowercase; throws Error(malformed) on odd length or a non-hex digit.
Bytes from_hex(std::string_view hex);

// The value without its leading zero octets (big-endian integers: MPIs, RSA n and e).
ByteView strip_leading_zeros(ByteView value);
inline Bytes without_leading_zeros(ByteView value) {
  ByteView v = strip_leading_zeros(value);
  return Bytes(v.begin(), v.end());
}

// Big-endian append helpers used by every packet writer.
inline void put_u8(Bytes& out, std::uint8_t v) { out.push_back(v); }
inline void put_u16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
inline void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
// Grows and copies rather than vector::insert: GCC 12 at -O3 takes an insert right after a
// push_back into a short vector for an out-of-bounds memcpy (-Warray-bounds), wrongly.
inline void put_bytes(Bytes& out, ByteView v) {
  if (v.empty()) return;
  const std::size_t at = out.size();
  out.resize(at + v.size());
  std::memcpy(out.data() + at, v.data(), v.size());
}

}  // namespace catsign
