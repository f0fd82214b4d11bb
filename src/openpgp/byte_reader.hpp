// SPDX-License-Identifier: Apache-2.0
// A bounds-checked cursor over a packet body, private to the OpenPGP parsers. Every read that
// would run past the end throws Error(malformed) naming `what` and the offset in the body.
#pragma once

#include <cstdint>
#include <string>

#include "catsign/error.hpp"
#include "catsign/util/bytes.hpp"

namespace catsign::openpgp::detail {

class ByteReader {
 public:
  ByteReader(ByteView data, std::string what) : data_(data), what_(std::move(what)) {}

  std::size_t offset() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  bool done() const noexcept { return pos_ == data_.size(); }

  [[noreturn]] void fail(const std::string& message) const {
    throw Error(Errc::malformed,
                what_ + ", offset " + std::to_string(pos_) + " in the packet: " + message);
  }
  void need(std::size_t n, const char* field) const {
    if (remaining() < n) fail(std::string("truncated ") + field);
  }
  std::uint8_t u8(const char* field) {
    need(1, field);
    return data_[pos_++];
  }
  std::uint16_t u16(const char* field) {
    need(2, field);
    auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::uint32_t u32(const char* field) {
    need(4, field);
    std::uint32_t v = (static_cast<std::uint32_t>(data_[pos_]) << 24) |
                      (static_cast<std::uint32_t>(data_[pos_ + 1]) << 16) |
                      (static_cast<std::uint32_t>(data_[pos_ + 2]) << 8) | data_[pos_ + 3];
    pos_ += 4;
    return v;
  }
  ByteView take(std::size_t n, const char* field) {
    need(n, field);
    ByteView v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  // An MPI (RFC 4880 §3.2): two-octet bit count, then (bits + 7) / 8 octets. The bit count
  // must be exact (no leading zero bits). Without `canonical`, whole leading zero octets are
  // tolerated (old writers counted them) and dropped; a key, whose fingerprint is computed by
  // re-encoding, must be canonical.
  Bytes mpi(const char* field, bool canonical) {
    const std::size_t bits = u16(field);
    const std::size_t len = (bits + 7) / 8;
    ByteView v = take(len, field);
    if (bits == 0) fail(std::string(field) + " is zero");
    const unsigned top_bit = static_cast<unsigned>((bits - 1) % 8);  // index of the top bit
    const bool leading_zero_octet = !canonical && v[0] == 0;
    if (!leading_zero_octet && (v[0] >> top_bit) != 1) {
      fail(std::string(field) + " has a bit count that does not match its value");
    }
    std::size_t skip = 0;
    while (skip < v.size() && v[skip] == 0) ++skip;
    return Bytes(v.begin() + static_cast<std::ptrdiff_t>(skip), v.end());
  }

 private:
  ByteView data_;
  std::string what_;
  std::size_t pos_ = 0;
};

}  // namespace catsign::openpgp::detail
