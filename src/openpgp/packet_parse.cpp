// SPDX-License-Identifier: Apache-2.0
// Packet framing, read side (RFC 4880 §4.2, RFC 9580 §4.2). Every length is checked against
// the input that is left and against kMaxPacketBody before anything is allocated; every
// refusal names the byte offset of the offending header.
#include <string>

#include "catsign/error.hpp"
#include "catsign/openpgp/packet.hpp"

namespace catsign::openpgp {
namespace {

[[noreturn]] void fail(std::size_t offset, const std::string& what) {
  throw Error(Errc::malformed, "OpenPGP data, byte offset " + std::to_string(offset) + ": " + what);
}

}  // namespace

std::vector<Packet> parse_packets(ByteView data) {
  std::vector<Packet> packets;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t start = pos;
    const std::uint8_t ctb = data[pos++];
    if ((ctb & 0x80) == 0) {
      fail(start, "not a packet header (octet 0x" + to_hex(ByteView(&data[start], 1)) +
                      "); is this OpenPGP data?");
    }
    auto need = [&](std::size_t n) {
      if (data.size() - pos < n) fail(start, "packet header is truncated");
    };
    std::uint8_t tag = 0;
    std::size_t length = 0;
    if ((ctb & 0x40) != 0) {
      // New format (RFC 4880 §4.2.2).
      tag = ctb & 0x3f;
      need(1);
      const std::uint8_t first = data[pos++];
      if (first < 192) {
        length = first;
      } else if (first < 224) {
        need(1);
        length = (static_cast<std::size_t>(first - 192) << 8) + data[pos++] + 192;
      } else if (first == 255) {
        need(4);
        length = (static_cast<std::size_t>(data[pos]) << 24) |
                 (static_cast<std::size_t>(data[pos + 1]) << 16) |
                 (static_cast<std::size_t>(data[pos + 2]) << 8) | data[pos + 3];
        pos += 4;
      } else {
        fail(start, "partial body lengths are not accepted (packet tag " + std::to_string(tag) +
                        ")");
      }
    } else {
      // Old format (RFC 4880 §4.2.1).
      tag = static_cast<std::uint8_t>((ctb >> 2) & 0x0f);
      switch (ctb & 0x03) {
        case 0:
          need(1);
          length = data[pos++];
          break;
        case 1:
          need(2);
          length = (static_cast<std::size_t>(data[pos]) << 8) | data[pos + 1];
          pos += 2;
          break;
        case 2:
          need(4);
          length = (static_cast<std::size_t>(data[pos]) << 24) |
                   (static_cast<std::size_t>(data[pos + 1]) << 16) |
                   (static_cast<std::size_t>(data[pos + 2]) << 8) | data[pos + 3];
          pos += 4;
          break;
        default:
          fail(start, "indeterminate packet lengths are not accepted (packet tag " +
                          std::to_string(tag) + ")");
      }
    }
    if (tag == 0) fail(start, "packet tag 0 is reserved");
    if (length > kMaxPacketBody) {
      fail(start, "packet body of " + std::to_string(length) + " octets exceeds the limit of " +
                      std::to_string(kMaxPacketBody));
    }
    if (data.size() - pos < length) {
      fail(start, "packet (tag " + std::to_string(tag) + ") is truncated: " +
                      std::to_string(length) + " octets announced, " +
                      std::to_string(data.size() - pos) + " present");
    }
    Packet p;
    p.tag = tag;
    p.offset = start;
    p.body.assign(data.begin() + static_cast<std::ptrdiff_t>(pos),
                  data.begin() + static_cast<std::ptrdiff_t>(pos + length));
    packets.push_back(std::move(p));
    pos += length;
  }
  return packets;
}

}  // namespace catsign::openpgp
