// SPDX-License-Identifier: Apache-2.0
// The HTTPS front's URL parsing (daemon/http_route.hpp): "METHOD PATH[?QUERY]" as the HTTP
// library hands it over, undecoded. Whatever it accepts names a target that stays in the
// tree (no empty, "." or ".." segment, no NUL, '%' or '\' after decoding, no leading '/')
// and is a request the socket protocol's own parser takes back unchanged.
#include "catsign/daemon/http_route.hpp"
#include "fuzz.hpp"

using namespace catsign;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return 0;
  std::string_view method = text.substr(0, space), target = text.substr(space + 1);
  std::size_t q = target.find('?');
  std::string_view path = target.substr(0, q), query = q == std::string_view::npos ? "" : target.substr(q + 1);
  fuzz::expect_only_error([&] {
    daemon::HttpRoute r = daemon::parse_http_route(method, path, query);
    if (r.kind != daemon::HttpRoute::Kind::sign) return;
    const std::string& t = r.request.target;
    if (t.empty() || t.front() == '/' || t.back() == '/') fuzz::broken("a target with an empty segment");
    if (t.find('\0') != std::string::npos || t.find('%') != std::string::npos || t.find('\\') != std::string::npos)
      fuzz::broken("a target with NUL, '%' or '\\' after decoding");
    std::string s = "/" + t + "/";
    if (s.find("//") != std::string::npos || s.find("/./") != std::string::npos || s.find("/../") != std::string::npos)
      fuzz::broken("a target with an empty, '.' or '..' segment");
    std::string line = daemon::format_request(r.request);
    line.pop_back();  // its LF
    daemon::Request again = daemon::parse_request(line);
    if (again.target != t || again.sha256 != r.request.sha256 || again.form != r.request.form ||
        again.kind != r.request.kind)
      fuzz::broken("the request does not survive the socket protocol's round trip");
  });
  return 0;
}
