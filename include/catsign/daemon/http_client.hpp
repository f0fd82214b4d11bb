// SPDX-License-Identifier: Apache-2.0
// The client side of the HTTPS front, for `catsign request --url`: libcurl, so TLS, proxies
// and certificate handling are what every other tool on the host does.
#pragma once

#include <chrono>
#include <string>

#include "catsign/daemon/protocol.hpp"

namespace catsign::daemon {

struct HttpClientOptions {
  std::string url;     // https://host:9981 (a path after it is kept as a prefix)
  std::string cacert;  // CA of the server's certificate; empty: the system's
  std::string cert;    // client certificate (PEM), when the front asks for one
  std::string key;     // its private key (PEM)
  std::chrono::seconds timeout{300};
};

// POSTs the SIGN or SIGNPKG request to /v1/sign/... or /v1/signpkg/... and returns the
// signature. A refusal throws Error with the Errc its reply code names (the body's JSON
// "code"), so the exit code is the one the socket would give; a daemon that can't be reached,
// or whose certificate does not verify, throws Error(unreachable); an unreadable --cacert,
// --cert or --key throws Error(usage).
std::string http_request(const HttpClientOptions& options, const Request& request);

}  // namespace catsign::daemon
