// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/http_route.hpp"

#include <vector>

#include "catsign/util/quote.hpp"

namespace catsign::daemon {

namespace {

[[noreturn]] void bad(const std::string& what) { throw Error(Errc::bad_request, what); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 §3.3 pchar without percent-escapes: unreserved, sub-delims, ':' and '@'.
bool plain_path_char(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '.': case '_': case '~':
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';': case '=':
    case ':': case '@':
      return true;
    default:
      return false;
  }
}

// One path segment, decoded once (RFC 3986 §2.1). An escape may only spell a printable
// character that could also have been written plainly; anything that would change the
// structure of the path after decoding is refused here rather than trusted to later checks.
std::string decode_segment(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      int hi = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
      int lo = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
      if (hi < 0 || lo < 0) bad("a '%' in the path is not followed by two hex digits");
      char d = static_cast<char>(hi * 16 + lo);
      if (d == '/' || d == '%' || d == '\\' || static_cast<unsigned char>(d) < 0x21 ||
          static_cast<unsigned char>(d) > 0x7e)
        bad("the path escapes a separator, a '%', a control or a non-ASCII byte: name the file as it is");
      out.push_back(d);
      i += 2;
      continue;
    }
    if (!plain_path_char(c)) bad("the path holds a byte that is not allowed in a URL path: " + quote_for_message(raw, 60));
    out.push_back(c);
  }
  if (out.empty()) bad("the path has an empty segment ('//'): name the catalog as release/arch/osrel");
  if (out == "." || out == "..") bad("the path has a '.' or '..' segment: name the catalog as release/arch/osrel");
  return out;
}

// "release/arch/osrel" or a package path: the segments after the endpoint's prefix.
std::string decode_target(std::string_view rest) {
  if (rest.empty()) bad("the path names no catalog: add /<release>/<arch>/<osrel>");
  std::string target;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = rest.find('/', start);
    std::string_view segment = rest.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!target.empty()) target += '/';
    target += decode_segment(segment);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return target;
}

struct Option {
  std::string key;
  std::string value;
};

// key=value&key=value with keys in [a-z0-9_] and values in [A-Za-z0-9]: nothing here needs
// escaping, so nothing is decoded, and the pair can go into a protocol line unchanged.
std::vector<Option> parse_query(std::string_view query) {
  std::vector<Option> options;
  if (query.empty()) return options;
  std::size_t start = 0;
  for (;;) {
    std::size_t amp = query.find('&', start);
    std::string_view part = query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    std::size_t eq = part.find('=');
    if (part.empty() || eq == std::string_view::npos || eq == 0)
      bad("the query must be key=value pairs separated by '&', such as ?sha256=<hex>");
    std::string_view key = part.substr(0, eq), value = part.substr(eq + 1);
    for (char c : key)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
        bad("unknown query option " + quote_for_message(key, 20) + ": use sha256=, mode= and armor=");
    if (value.empty()) bad(std::string(key) + "= needs a value");
    for (char c : value)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
        bad(std::string(key) + "= has a value with characters other than letters and digits");
    options.push_back({std::string(key), std::string(value)});
    if (options.size() > 8) bad("too many query options");
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return options;
}

// The socket protocol's line for the request, parsed by the socket protocol's own parser.
Request as_request(const char* verb, const std::string& target, const std::vector<Option>& options,
                   const char* fixed_option, bool allow_mode, bool allow_armor) {
  std::string line = std::string(verb) + " " + target;
  for (const Option& o : options) {
    if (o.key == "mode" && !allow_mode) bad("mode= is fixed by this endpoint: use POST /v1/sign/... to choose it");
    if (o.key == "armor" && !allow_armor) bad("armor= does not apply to a cleartext signature");
    line += " " + o.key + "=" + o.value;
  }
  if (fixed_option) line += std::string(" ") + fixed_option;
  return parse_request(line);
}

bool is(std::string_view method, const char* m) { return method == m; }

}  // namespace

HttpRoute parse_http_route(std::string_view method, std::string_view path, std::string_view query) {
  if (path.size() + query.size() > kMaxRequestLine) bad("the URL is longer than 1024 bytes");
  if (!path.starts_with("/")) bad("the request target must be a path starting with '/'");
  HttpRoute route;
  auto no_query = [&](const char* what) {
    if (!query.empty()) bad(std::string(what) + " takes no query");
  };
  auto need = [&](const char* m, const char* what) {
    if (!is(method, m)) bad("use " + std::string(m) + " for " + what);
  };
  if (path == "/v1/status") {
    need("GET", "/v1/status");
    no_query("/v1/status");
    route.kind = HttpRoute::Kind::status;
    return route;
  }
  if (path == "/metrics") {
    need("GET", "/metrics");
    no_query("/metrics");
    route.kind = HttpRoute::Kind::metrics;
    return route;
  }
  const std::string_view sign = "/v1/sign/", signpkg = "/v1/signpkg/", clearsign = "/clearsign/",
                         detachsign = "/detachsign/";
  route.kind = HttpRoute::Kind::sign;
  if (path.starts_with(sign)) {
    need("POST", "/v1/sign/<release>/<arch>/<osrel>");
    route.request = as_request("SIGN", decode_target(path.substr(sign.size())), parse_query(query), nullptr, true, true);
    return route;
  }
  if (path.starts_with(signpkg)) {
    need("POST", "/v1/signpkg/<path>");
    route.request = as_request("SIGNPKG", decode_target(path.substr(signpkg.size())), parse_query(query), nullptr,
                               false, true);
    return route;
  }
  // OpenCSW's own shape: its push scripts used plain GETs; POST is taken too.
  bool get_or_post = is(method, "GET") || is(method, "POST");
  if (path.starts_with(clearsign)) {
    if (!get_or_post) bad("use GET for /clearsign/<release>/<arch>/<osrel>");
    route.request = as_request("SIGN", decode_target(path.substr(clearsign.size())), parse_query(query),
                               "mode=clearsign", false, false);
    return route;
  }
  if (path.starts_with(detachsign)) {
    if (!get_or_post) bad("use GET for /detachsign/<release>/<arch>/<osrel>");
    route.request = as_request("SIGN", decode_target(path.substr(detachsign.size())), parse_query(query),
                               "mode=detached", false, true);
    return route;
  }
  for (std::string_view admin : {"/v1/unlock", "/v1/lock", "/unlock", "/lock"})
    if (path == admin || path.starts_with(std::string(admin) + "/"))
      throw Error(Errc::refused, "UNLOCK and LOCK are accepted on the admin socket only, never over the network");
  throw Error(Errc::unknown_target, "no endpoint " + quote_for_message(path, 60) +
                                        ": use /v1/sign/<release>/<arch>/<osrel>, /clearsign/..., /detachsign/..., "
                                        "/v1/signpkg/<path>, /v1/status or /metrics");
}

std::string describe_http_request(std::string_view method, std::string_view path, std::string_view query) {
  std::string s = std::string(method.substr(0, 10)) + " " + std::string(path.substr(0, 160));
  if (!query.empty()) s.append(1, '?').append(query.substr(0, 100));  // not `"?" + temporary`: GCC 12 -Wrestrict
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  return s;
}

}  // namespace catsign::daemon
