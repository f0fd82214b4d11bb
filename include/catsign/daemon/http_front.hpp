// SPDX-License-Identifier: Apache-2.0
// The HTTPS front ([http], docs/DESIGN.md "HTTPS front"): catsignd across hosts. libmicrohttpd
// speaks HTTP and TLS; this front decides who may connect (the address allow-list, at accept,
// before TLS), who may ask (a client certificate from [http] client_ca, and its name in
// client_names), turns the URL into a Request (daemon/http_route.hpp) and renders the signing
// service's Outcome with the one error table. Requests that reach the service are suspended
// and answered from a small pool of workers, so a slow token never stops the event threads
// that keep handshakes, slow and hostile peers in check. UNLOCK and LOCK are not offered.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "catsign/config.hpp"
#include "catsign/daemon/signing_service.hpp"

namespace catsign::daemon {

class HttpFront {
 public:
  // Listens on the sockets systemd passed (FileDescriptorName=http), else on [http] listen.
  // Error(usage) when the TLS files can't be read or a listener can't be opened.
  HttpFront(const Config& config, SigningService& service, std::vector<int> activated);
  ~HttpFront();  // stops accepting, finishes the requests in hand, closes every connection
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  // "https://192.0.2.10:9981, https://[::1]:9981": for the start-up log line.
  std::string describe() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catsign::daemon
