// SPDX-License-Identifier: Apache-2.0
// The HTTPS front's URL parsing, without a daemon: every endpoint maps to the Request the
// socket would build, and every path trick, bad escape, odd query and wrong method is refused
// with the right error before anything is opened.
#include "catsign/daemon/http_route.hpp"

#include <gtest/gtest.h>

namespace catsign::daemon {
namespace {

const std::string kSha(64, 'a');

HttpRoute route(const std::string& method, const std::string& path, const std::string& query = "") {
  return parse_http_route(method, path, query);
}

Errc refusal(const std::string& method, const std::string& path, const std::string& query = "") {
  try {
    parse_http_route(method, path, query);
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    return e.code();
  }
  ADD_FAILURE() << method << " " << path << "?" << query << " was accepted";
  return Errc::internal;
}

TEST(HttpRoute, SignForms) {
  HttpRoute r = route("POST", "/v1/sign/unstable/i386/5.10", "sha256=" + kSha);
  EXPECT_EQ(r.kind, HttpRoute::Kind::sign);
  EXPECT_EQ(r.request.kind, Request::Kind::sign);
  EXPECT_EQ(r.request.target, "unstable/i386/5.10");
  EXPECT_EQ(to_hex(r.request.sha256), kSha);
  EXPECT_EQ(r.request.form, signing::Form::detached_armored);
  EXPECT_EQ(route("POST", "/v1/sign/unstable/i386/5.10", "sha256=" + kSha + "&armor=no").request.form,
            signing::Form::detached_binary);
  EXPECT_EQ(route("POST", "/v1/sign/unstable/i386/5.10", "mode=clearsign&sha256=" + kSha).request.form,
            signing::Form::cleartext);
  EXPECT_EQ(route("POST", "/v1/sign/unstable/i386/5.10", "sha256=" + kSha + "&mode=detached&armor=yes").request.form,
            signing::Form::detached_armored);
}

TEST(HttpRoute, OpenCswShape) {
  HttpRoute c = route("GET", "/clearsign/unstable/sparc/5.9", "sha256=" + kSha);
  EXPECT_EQ(c.request.form, signing::Form::cleartext);
  EXPECT_EQ(c.request.target, "unstable/sparc/5.9");
  EXPECT_EQ(route("POST", "/clearsign/unstable/sparc/5.9", "sha256=" + kSha).request.form, signing::Form::cleartext);
  EXPECT_EQ(route("GET", "/detachsign/unstable/sparc/5.9", "sha256=" + kSha).request.form,
            signing::Form::detached_armored);
  EXPECT_EQ(route("GET", "/detachsign/unstable/sparc/5.9", "sha256=" + kSha + "&armor=no").request.form,
            signing::Form::detached_binary);
  EXPECT_EQ(refusal("GET", "/clearsign/unstable/sparc/5.9", "sha256=" + kSha + "&armor=no"), Errc::bad_request);
  EXPECT_EQ(refusal("GET", "/clearsign/unstable/sparc/5.9", "sha256=" + kSha + "&mode=detached"), Errc::bad_request);
  EXPECT_EQ(refusal("DELETE", "/clearsign/unstable/sparc/5.9", "sha256=" + kSha), Errc::bad_request);
}

TEST(HttpRoute, PackagesStatusMetrics) {
  HttpRoute p = route("POST", "/v1/signpkg/allpkgs/foo-1.0,REV=2026.11.25-SunOS5.10-i386-CSW.pkg.gz", "sha256=" + kSha);
  EXPECT_EQ(p.request.kind, Request::Kind::signpkg);
  EXPECT_EQ(p.request.target, "allpkgs/foo-1.0,REV=2026.11.25-SunOS5.10-i386-CSW.pkg.gz");
  // An escaped comma is the same file.
  EXPECT_EQ(route("POST", "/v1/signpkg/allpkgs/foo-1.0%2CREV=1.pkg.gz", "sha256=" + kSha).request.target,
            "allpkgs/foo-1.0,REV=1.pkg.gz");
  EXPECT_EQ(refusal("POST", "/v1/signpkg/a.pkg.gz", "sha256=" + kSha + "&mode=clearsign"), Errc::bad_request);
  EXPECT_EQ(route("GET", "/v1/status").kind, HttpRoute::Kind::status);
  EXPECT_EQ(route("GET", "/metrics").kind, HttpRoute::Kind::metrics);
  EXPECT_EQ(refusal("POST", "/v1/status"), Errc::bad_request);
  EXPECT_EQ(refusal("GET", "/metrics", "x=1"), Errc::bad_request);
}

TEST(HttpRoute, RepositoryNamesPassThrough) {
  // A colon is a plain path character: a repository request names itself as it would on the socket.
  EXPECT_EQ(route("POST", "/v1/sign/debian:bookworm", "sha256=" + kSha).request.target, "debian:bookworm");
}

TEST(HttpRoute, AdminOperationsAreNotOffered) {
  for (const char* path : {"/v1/unlock", "/v1/lock", "/unlock", "/lock", "/v1/lock/now"})
    EXPECT_EQ(refusal("POST", path), Errc::refused) << path;
}

TEST(HttpRoute, UnknownEndpointsAndWrongMethods) {
  EXPECT_EQ(refusal("GET", "/"), Errc::unknown_target);
  EXPECT_EQ(refusal("GET", "/v1/signx/unstable/i386/5.10"), Errc::unknown_target);
  EXPECT_EQ(refusal("GET", "/v1/sign/unstable/i386/5.10", "sha256=" + kSha), Errc::bad_request);
  EXPECT_EQ(refusal("PUT", "/v1/signpkg/a.pkg.gz", "sha256=" + kSha), Errc::bad_request);
  EXPECT_EQ(refusal("GET", "http://host/v1/status"), Errc::bad_request);
  EXPECT_EQ(refusal("GET", "*"), Errc::bad_request);
}

TEST(HttpRoute, PathTricksAreRefused) {
  const std::string q = "sha256=" + kSha;
  for (const char* path : {
           "/v1/sign/../etc/passwd/x", "/v1/sign/unstable/../../x", "/v1/sign/unstable/./i386/5.10",
           "/v1/sign/unstable//i386/5.10", "/v1/sign/", "/v1/sign/unstable/i386/5.10/",
           "/v1/sign/unstable%2fi386%2f5.10", "/v1/sign/unstable%2Fi386/5.10", "/v1/sign/%2e%2e/x/y",
           "/v1/sign/%2E%2E/x/y", "/v1/sign/.%2e/x/y", "/v1/sign/unstable/i386/5.10%00",
           "/v1/sign/unstable/i386/5.10%00.txt", "/v1/sign/%252e%252e/x/y", "/v1/sign/%25/x/y",
           "/v1/sign/unstable/i386/5.10%5c..", "/v1/sign/unstable\\i386/5.10", "/v1/sign/unstable/i386/5.1%",
           "/v1/sign/unstable/i386/5.1%4", "/v1/sign/unstable/i386/5.1%zz", "/v1/sign/unstable/i386/5.10%0a",
           "/v1/sign/unstable/i386/5.10%20x", "/v1/sign/unstable/i386/5 10", "/v1/sign/unstable/i386/5.10%c3%a9",
           "/v1/sign/unst\xc3\xa9" "ble/i386/5.10", "/v1/signpkg/../../etc/shadow.pkg.gz",
           "/v1/signpkg/a/%2e%2e/%2e%2e/b.pkg.gz", "/v1/signpkg/a%2f..%2fb.pkg.gz", "/v1/signpkg/%00.pkg.gz",
           "/clearsign/../../x/y", "/detachsign/%2e%2e/x/y"})
    EXPECT_EQ(refusal(path[1] == 'v' ? "POST" : "GET", path, q), Errc::bad_request) << path;
  // Not a trick once decoded: a tuple part spelled with escapes for plain characters.
  EXPECT_EQ(route("POST", "/v1/sign/%75nstable/i386/5%2e10", q).request.target, "unstable/i386/5.10");
  EXPECT_EQ(refusal("POST", "/v1/sign/" + std::string(1100, 'a'), q), Errc::bad_request);
}

TEST(HttpRoute, QueriesAreStrict) {
  const std::string p = "/v1/sign/unstable/i386/5.10";
  for (const std::string& q : std::vector<std::string>{std::string(""), "sha256=" + kSha + "&sha256=" + kSha, "sha256=" + kSha.substr(1),
                               "sha256=" + std::string(64, 'A'), "sha256=" + kSha + "&mode=x",
                               "sha256=" + kSha + "&armor=maybe", "sha256=" + kSha + "&color=red",
                               "sha256=" + kSha + "&", "&sha256=" + kSha, "sha256", "=x", "sha256=" + kSha + "&mode",
                               "sha256=" + kSha + "%20mode%3dclearsign", "sha256=" + kSha + "+mode=clearsign",
                               "sha256=" + kSha + "&mode=clearsign&armor=no", "Sha256=" + kSha})
    EXPECT_EQ(refusal("POST", p, q), Errc::bad_request) << q;
}

TEST(HttpRoute, DescribeIsOnePrintableLine) {
  std::string s = describe_http_request("GET", "/a\nb\x01", "q=\xff");
  EXPECT_EQ(s, "GET /a?b??q=?");
}

}  // namespace
}  // namespace catsign::daemon
