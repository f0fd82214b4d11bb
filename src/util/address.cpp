// SPDX-License-Identifier: Apache-2.0
#include "catsign/util/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

#include "catsign/error.hpp"
#include "catsign/util/quote.hpp"

namespace catsign {

namespace {

[[noreturn]] void bad(std::string_view text, const std::string& why) {
  throw Error(Errc::usage, quote_for_message(std::string(text)) + " " + why);
}

// The peer's address as 4 or 16 bytes; IPv4-mapped IPv6 (RFC 4291 §2.5.5.2) as its IPv4.
bool peer_bytes(const sockaddr* a, socklen_t len, bool& v6, std::array<std::uint8_t, 16>& out) {
  if (a->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(a);
    std::memcpy(out.data(), &in->sin_addr, 4);
    v6 = false;
    return true;
  }
  if (a->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      std::memcpy(out.data(), in6->sin6_addr.s6_addr + 12, 4);
      v6 = false;
    } else {
      std::memcpy(out.data(), in6->sin6_addr.s6_addr, 16);
      v6 = true;
    }
    return true;
  }
  return false;
}

}  // namespace

SocketAddress parse_listen_address(std::string_view text) {
  SocketAddress out;
  std::string host;
  std::string_view port;
  bool v6 = false;
  if (text.starts_with("[")) {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      bad(text, "is not [IPv6 address]:port, such as \"[::1]:9981\"");
    host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
    v6 = true;
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon)
      bad(text, "is not address:port, such as \"192.0.2.10:9981\" or \"[::1]:9981\"");
    host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535)
    bad(text, "needs a port from 1 to 65535 after the colon");
  if (v6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<std::uint16_t>(p));
    if (::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) bad(text, "does not hold a valid IPv6 address");
    out.length = sizeof(sockaddr_in6);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<std::uint16_t>(p));
    if (::inet_pton(AF_INET, host.c_str(), &in->sin_addr) != 1)
      bad(text, "does not hold a valid IPv4 address (host names are not accepted)");
    out.length = sizeof(sockaddr_in);
  }
  return out;
}

std::string format_address(const sockaddr* a, socklen_t len) {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  if (!a || !peer_bytes(a, len, v6, bytes)) return "unknown";
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  unsigned port = a->sa_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in*>(a)->sin_port)
                                          : ntohs(reinterpret_cast<const sockaddr_in6*>(a)->sin6_port);
  // Appended piece by piece: GCC 12 at -O3 takes `"[" + temporary` for an overlapping memcpy.
  std::string out = v6 ? "[" : "";
  out += buf;
  out += v6 ? "]:" : ":";
  out += std::to_string(port);
  return out;
}

AddressRange AddressRange::parse(std::string_view text) {
  AddressRange r;
  std::string_view addr = text;
  std::string_view prefix;
  if (std::size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    prefix = text.substr(slash + 1);
  }
  std::string host(addr);
  if (::inet_pton(AF_INET, host.c_str(), r.bytes_.data()) == 1) {
    r.v6_ = false;
  } else if (::inet_pton(AF_INET6, host.c_str(), r.bytes_.data()) == 1) {
    r.v6_ = true;
  } else {
    bad(text, "is not an address range such as \"192.0.2.0/24\" or \"2001:db8::/32\"");
  }
  const unsigned max = r.v6_ ? 128 : 32;
  r.prefix_ = max;
  if (text.find('/') != std::string_view::npos) {
    auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), r.prefix_);
    if (prefix.empty() || ec != std::errc() || end != prefix.data() + prefix.size() || r.prefix_ > max)
      bad(text, "needs a prefix length from 0 to " + std::to_string(max) + " after the slash");
  }
  for (unsigned bit = r.prefix_; bit < max; ++bit)
    if (r.bytes_[bit / 8] & (0x80u >> (bit % 8)))
      bad(text, "has bits set past its prefix length: write the network address (e.g. 192.0.2.0/24)");
  return r;
}

bool AddressRange::contains(const sockaddr* a, socklen_t len) const noexcept {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  if (!a || !peer_bytes(a, len, v6, bytes) || v6 != v6_) return false;
  for (unsigned bit = 0; bit < prefix_; ++bit) {
    std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    if ((bytes[bit / 8] & mask) != (bytes_[bit / 8] & mask)) return false;
  }
  return true;
}

bool AddressRange::is_loopback(const sockaddr* a, socklen_t len) noexcept {
  static const AddressRange v4 = parse("127.0.0.0/8");
  static const AddressRange v6 = parse("::1");
  return v4.contains(a, len) || v6.contains(a, len);
}

}  // namespace catsign
