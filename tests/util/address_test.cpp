// SPDX-License-Identifier: Apache-2.0
// Listen addresses and allowed source ranges: strict parsing with inet_pton, CIDR matching,
// IPv4-mapped IPv6 peers judged as IPv4, and what an empty allow-list means (loopback).
#include "catsign/util/address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "catsign/error.hpp"

namespace catsign {
namespace {

SocketAddress peer(const std::string& text) { return parse_listen_address(text); }

bool in(const std::string& range, const std::string& address) {
  SocketAddress a = peer(address);
  return AddressRange::parse(range).contains(a.get(), a.length);
}

TEST(Address, ListenAddresses) {
  SocketAddress v4 = parse_listen_address("192.0.2.10:9981");
  EXPECT_EQ(v4.family(), AF_INET);
  EXPECT_EQ(format_address(v4.get(), v4.length), "192.0.2.10:9981");
  SocketAddress v6 = parse_listen_address("[::1]:9981");
  EXPECT_EQ(v6.family(), AF_INET6);
  EXPECT_EQ(format_address(v6.get(), v6.length), "[::1]:9981");
  for (const char* bad : {"192.0.2.10", "192.0.2.10:", "192.0.2.10:0", "192.0.2.10:65536", "192.0.2.10:99x",
                          "host.example:9981", "::1:9981", "[::1]9981", "[::1]", "[192.0.2.1]:9981", "[::1:9981",
                          ":9981", "192.0.2.300:9981", "", "192.0.2.10:-1", "192.0.2.10: 9981"}) {
    try {
      parse_listen_address(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::usage) << bad;
    }
  }
}

TEST(Address, Ranges) {
  EXPECT_TRUE(in("192.0.2.0/24", "192.0.2.77:1"));
  EXPECT_FALSE(in("192.0.2.0/24", "192.0.3.1:1"));
  EXPECT_FALSE(in("192.0.2.0/24", "127.0.0.1:1"));
  EXPECT_TRUE(in("0.0.0.0/0", "198.51.100.1:1"));
  EXPECT_TRUE(in("192.0.2.10", "192.0.2.10:1"));
  EXPECT_FALSE(in("192.0.2.10", "192.0.2.11:1"));
  EXPECT_TRUE(in("2001:db8::/32", "[2001:db8:1::5]:1"));
  EXPECT_FALSE(in("2001:db8::/32", "[2001:db9::5]:1"));
  EXPECT_FALSE(in("2001:db8::/32", "192.0.2.1:1"));
  EXPECT_TRUE(in("192.0.2.0/24", "[::ffff:192.0.2.9]:1")) << "IPv4-mapped peers are IPv4";
  EXPECT_FALSE(in("::ffff:0:0/96", "192.0.2.9:1"));
  EXPECT_TRUE(in("10.0.0.0/9", "10.127.255.255:1"));
  EXPECT_FALSE(in("10.0.0.0/9", "10.128.0.0:1"));
  for (const char* bad : {"192.0.2.0/33", "192.0.2.1/24", "2001:db8::/129", "192.0.2.0/", "192.0.2.0/x",
                          "192.0.2.0/24/1", "example.org", "", "192.0.2.0 /24", "::/-1"}) {
    try {
      AddressRange::parse(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::usage) << bad;
    }
  }
}

TEST(Address, Loopback) {
  for (const char* a : {"127.0.0.1:1", "127.1.2.3:1", "[::1]:1", "[::ffff:127.0.0.1]:1"}) {
    SocketAddress s = peer(a);
    EXPECT_TRUE(AddressRange::is_loopback(s.get(), s.length)) << a;
  }
  for (const char* a : {"192.0.2.1:1", "[::2]:1", "0.0.0.0:1"}) {
    SocketAddress s = peer(a);
    EXPECT_FALSE(AddressRange::is_loopback(s.get(), s.length)) << a;
  }
}

}  // namespace
}  // namespace catsign
