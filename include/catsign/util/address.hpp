// SPDX-License-Identifier: Apache-2.0
// Network addresses for the HTTPS front: listen addresses ("192.0.2.10:9981", "[::1]:9981")
// and source ranges in CIDR notation ("192.0.2.0/24", "2001:db8::/32", RFC 4632 §3.1,
// RFC 4291 §2.3). Parsed strictly with inet_pton: no host names, so a listener or an allowed
// range never depends on DNS.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace catsign {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const noexcept { return storage.ss_family; }
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
};

// "a.b.c.d:port" or "[v6]:port", port 1-65535. Error(usage) saying what is wrong.
SocketAddress parse_listen_address(std::string_view text);

// "192.0.2.10:4711" or "[2001:db8::1]:4711"; IPv4-mapped IPv6 addresses print as IPv4.
std::string format_address(const sockaddr* address, socklen_t length);

class AddressRange {
 public:
  // "addr/prefix" or a single "addr" (a /32 or /128). Error(usage) when it does not parse,
  // when the prefix is too long, or when bits are set past the prefix (a likely typo).
  static AddressRange parse(std::string_view text);
  // IPv4-mapped IPv6 peers (::ffff:a.b.c.d, from a dual-stack listener) match IPv4 ranges.
  bool contains(const sockaddr* address, socklen_t length) const noexcept;
  // 127.0.0.0/8 and ::1: what an empty allow-list means.
  static bool is_loopback(const sockaddr* address, socklen_t length) noexcept;

 private:
  bool v6_ = false;
  std::array<std::uint8_t, 16> bytes_{};
  unsigned prefix_ = 0;
};

}  // namespace catsign
