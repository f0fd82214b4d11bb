// SPDX-License-Identifier: Apache-2.0
// The HTTPS front's request targets (docs/DESIGN.md "HTTPS front"): the method, the raw path
// and the raw query of a request, as they came off the wire, turned into the same typed
// Request the sockets use. The HTTP library hands these over undecoded, so every
// percent-escape is judged here, once: an escape may spell only a printable character that is
// not '/', '%' or '\', so "%2f", "%00" and double encodings ("%252e") can never smuggle a
// separator, a NUL or a second decoding past the checks; "." and ".." segments are refused
// after decoding. The options then go through the socket protocol's own parser, so mode=,
// armor= and sha256= mean exactly what they mean on the sign socket.
#pragma once

#include <string>
#include <string_view>

#include "catsign/daemon/protocol.hpp"

namespace catsign::daemon {

struct HttpRoute {
  enum class Kind { sign, status, metrics };
  Kind kind = Kind::status;
  Request request;  // Kind::sign: a SIGN or SIGNPKG request
};

// The endpoints:
//   POST /v1/sign/<release>/<arch>/<osrel>?sha256=<hex>[&mode=detached|clearsign][&armor=yes|no]
//   GET  /clearsign/<release>/<arch>/<osrel>?sha256=<hex>     (OpenCSW's shape; POST too)
//   GET  /detachsign/<release>/<arch>/<osrel>?sha256=<hex>[&armor=yes|no]
//   POST /v1/signpkg/<path>?sha256=<hex>[&armor=yes|no]
//   GET  /v1/status, GET /metrics
// Throws Error(bad_request) for a malformed target or a wrong method, Error(unknown_target)
// for a path that is no endpoint, Error(refused) for UNLOCK and LOCK, which stay on the
// admin socket. Messages are one line and quote untrusted text safely.
HttpRoute parse_http_route(std::string_view method, std::string_view path, std::string_view query);

// The request as one line for the audit log: "GET /v1/status", cut short and made printable.
std::string describe_http_request(std::string_view method, std::string_view path, std::string_view query);

}  // namespace catsign::daemon
