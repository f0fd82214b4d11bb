// SPDX-License-Identifier: Apache-2.0
// What the HTTPS front's tests share: throwaway certificates made with openssl for this run
// (a push CA with a server and two client certificates, and a second CA nobody trusts), a
// free loopback port, the [http] section, and curl as the client.
#pragma once

#include <string>
#include <vector>

#include "daemon_fixture.hpp"

namespace catsign::testing {

struct TlsFiles {
  TlsFiles();  // runs openssl; throws when it fails
  TempDir dir;
  std::string ca() const { return (dir / "ca.pem").string(); }
  std::string server() const { return (dir / "server.pem").string(); }
  std::string server_key() const { return (dir / "server.key").string(); }
  // CN=push.example, from the push CA
  std::string client() const { return (dir / "push.pem").string(); }
  std::string client_key() const { return (dir / "push.key").string(); }
  // CN=stranger.example, from the push CA too
  std::string stranger() const { return (dir / "stranger.pem").string(); }
  std::string stranger_key() const { return (dir / "stranger.key").string(); }
  // CN=push.example, from another CA
  std::string intruder() const { return (dir / "intruder.pem").string(); }
  std::string intruder_key() const { return (dir / "intruder.key").string(); }
};

// A port on 127.0.0.1 nobody listens on right now.
int free_port();

// The [http] section for a listener on 127.0.0.1:port with the push CA and the given extras.
std::string http_section(const TlsFiles& tls, int port, const std::string& extra = "");

struct HttpReply {
  int status = 0;       // 0: no HTTP reply at all
  std::string body;
  std::string headers;
  int curl_exit = -1;
  std::string err;
};

// curl -sS against https://127.0.0.1:port<target> with the push CA and, unless `args` say
// otherwise, the push.example client certificate. `args` go before the URL.
HttpReply curl(const TlsFiles& tls, int port, const std::string& target, std::vector<std::string> args = {},
               bool client_cert = true, const std::string& scheme = "https");

}  // namespace catsign::testing
