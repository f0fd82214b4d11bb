// SPDX-License-Identifier: Apache-2.0
// The HTTPS front against real clients on loopback: curl gets detached (armored and binary)
// and cleartext signatures that gpg, sqv and sq verify with the catalog notation in them, on
// the /v1 endpoints and on OpenCSW's own URL shape; `catsign request --url` exits as it does
// over the socket. Every error status of the table is produced and comes as one text line or
// JSON. A client without a certificate, with one from another CA or with an unlisted name, an
// address outside [http] allow, and plain HTTP to the TLS port never get a signature; path
// tricks never reach a file outside the tree; UNLOCK and LOCK are not offered. Each request
// is audited with the peer's address and certificate subject.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <thread>

#include "http_support.hpp"

namespace catsign::testing {
namespace {

constexpr const char* kTuple = "unstable/i386/5.10";

std::vector<nlohmann::json> audit_of(const DaemonFixture& d) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_text(d.audit_log()));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

long long signatures_of(const DaemonFixture& d) {
  return nlohmann::json::parse(d.status())["signatures"].get<long long>();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}


// One unlocked daemon with the front on a loopback port, the push CA, client_names, and a
// package key for /v1/signpkg.
class HttpFront : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tls_ = std::make_unique<TlsFiles>();
    port_ = free_port();
    DaemonOptions o;
    o.package_key = true;
    o.extra_config = http_section(*tls_, port_, "client_names = [\"push.example\"]\n");
    daemon_ = std::make_unique<DaemonFixture>(o);
    if (daemon_->unlock().code != "OK") throw std::runtime_error("unlock failed: " + daemon_->log());
  }
  static void TearDownTestSuite() {
    daemon_.reset();
    tls_.reset();
  }
  static DaemonFixture& d() { return *daemon_; }
  static HttpReply get(const std::string& target, std::vector<std::string> args = {}, bool cert = true) {
    return curl(*tls_, port_, target, std::move(args), cert);
  }
  static HttpReply post(const std::string& target, std::vector<std::string> args = {}, bool cert = true) {
    args.insert(args.begin(), {"-X", "POST"});
    return curl(*tls_, port_, target, std::move(args), cert);
  }
  static std::string sign_url(const std::string& tuple, const std::string& options = "") {
    return "/v1/sign/" + tuple + "?sha256=" + d().sha256_of(tuple) + options;
  }

  static std::unique_ptr<TlsFiles> tls_;
  static int port_;
  static std::unique_ptr<DaemonFixture> daemon_;
};

std::unique_ptr<TlsFiles> HttpFront::tls_;
int HttpFront::port_ = 0;
std::unique_ptr<DaemonFixture> HttpFront::daemon_;

TEST_F(HttpFront, CurlGetsEveryFormVerifiedByGpgAndSqv) {
  HttpReply armored = post(sign_url(kTuple));
  ASSERT_EQ(armored.status, 200) << armored.body << armored.err << d().log();
  EXPECT_EQ(armored.body.rfind("-----BEGIN PGP SIGNATURE-----", 0), 0u);
  EXPECT_TRUE(contains(armored.headers, "application/pgp-signature")) << armored.headers;
  expect_clients_verify(d(), kTuple, armored.body, false);

  HttpReply binary = post(sign_url(kTuple, "&mode=detached&armor=no"));
  ASSERT_EQ(binary.status, 200) << binary.body;
  ASSERT_FALSE(binary.body.empty());
  EXPECT_EQ(static_cast<unsigned char>(binary.body[0]) & 0x80, 0x80) << "not an OpenPGP packet";
  expect_clients_verify(d(), kTuple, binary.body, false);

  HttpReply clear = post(sign_url("dublin/sparc/5.9", "&mode=clearsign"));
  ASSERT_EQ(clear.status, 200) << clear.body;
  EXPECT_EQ(clear.body.rfind("-----BEGIN PGP SIGNED MESSAGE-----", 0), 0u);
  expect_clients_verify(d(), "dublin/sparc/5.9", clear.body, true);
}

TEST_F(HttpFront, OpenCswUrlShapeWorksWithGet) {
  HttpReply clear = get("/clearsign/" + std::string(kTuple) + "?sha256=" + d().sha256_of(kTuple));
  ASSERT_EQ(clear.status, 200) << clear.body;
  EXPECT_EQ(clear.body.rfind("-----BEGIN PGP SIGNED MESSAGE-----", 0), 0u);
  expect_clients_verify(d(), kTuple, clear.body, true);
  HttpReply detached = get("/detachsign/kiel/i386/5.11?sha256=" + d().sha256_of("kiel/i386/5.11"));
  ASSERT_EQ(detached.status, 200) << detached.body;
  EXPECT_EQ(detached.body.rfind("-----BEGIN PGP SIGNATURE-----", 0), 0u);
  expect_clients_verify(d(), "kiel/i386/5.11", detached.body, false);
  // A symlinked release, as OpenCSW's testing -> dublin.
  HttpReply testing = get("/clearsign/testing/sparc/5.9?sha256=" + d().sha256_of("testing/sparc/5.9"));
  EXPECT_EQ(testing.status, 200) << testing.body;
}

TEST_F(HttpFront, PackageSignatureOverSignpkg) {
  write_text(d().root() / "unstable/i386/5.10/foo-1.0,REV=2026.11.25-SunOS5.10-i386-CSW.pkg.gz", "package bytes");
  TempDir t;
  write_text(t / "p", "package bytes");
  RunResult h = run({"sha256sum", (t / "p").string()});
  std::string sha = h.out.substr(0, 64);
  HttpReply r = post("/v1/signpkg/unstable/i386/5.10/foo-1.0,REV=2026.11.25-SunOS5.10-i386-CSW.pkg.gz?sha256=" + sha);
  ASSERT_EQ(r.status, 200) << r.body;
  write_text(t / "p.asc", r.body);
  RunResult s = run({"sqv", "--keyring", d().package_cert().string(), (t / "p.asc").string(), (t / "p").string()});
  EXPECT_EQ(s.exit_code, 0) << s.err;
}

TEST_F(HttpFront, StatusAndMetrics) {
  HttpReply s = get("/v1/status");
  ASSERT_EQ(s.status, 200) << s.body;
  nlohmann::json j = nlohmann::json::parse(s.body);
  EXPECT_EQ(j["state"], "unlocked");
  HttpReply m = get("/metrics");
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_TRUE(contains(m.headers, "text/plain; version=0.0.4")) << m.headers;
  for (const char* line : {"catsign_unlocked 1", "catsign_token_present 1", "# TYPE catsign_signatures_total counter",
                           "catsign_signatures_total{result=\"ok\"} ", "catsign_unlock_expires_in_seconds ",
                           "catsign_last_signature_timestamp_seconds "})
    EXPECT_TRUE(contains(m.body, line)) << line << "\n" << m.body;
}

TEST_F(HttpFront, ErrorsHaveTheirStatusAndOneLine) {
  struct Case {
    std::string method, target;
    int status;
    std::string says;
  };
  const std::string good = d().sha256_of(kTuple);
  const std::vector<Case> cases = {
      {"POST", "/v1/sign/" + std::string(kTuple) + "?sha256=xyz", 400, "64 lowercase hex"},
      {"POST", "/v1/sign/" + std::string(kTuple), 400, "sha256="},
      {"GET", "/v1/sign/" + std::string(kTuple) + "?sha256=" + good, 400, "use POST"},
      {"POST", "/v1/sign/" + std::string(kTuple) + "?sha256=" + good + "&mode=clearsign&armor=no", 400, "always armored"},
      {"POST", "/v1/sign/unstable/i386/5.8?sha256=" + good, 404, "5.8"},
      {"GET", "/nothing/here", 404, "no endpoint"},
      {"POST", "/v1/sign/" + std::string(kTuple) + "?sha256=" + std::string(64, 'a'), 409, "nothing was signed"},
      {"POST", "/v1/unlock", 403, "admin socket"},
      {"POST", "/v1/lock", 403, "admin socket"},
      {"POST", "/v1/signpkg/unstable/i386/5.10/catalog?sha256=" + good, 404, "package suffix"},
  };
  long long before = signatures_of(d());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target);
    HttpReply r = curl(*tls_, port_, c.target, {"-X", c.method});
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_TRUE(contains(r.body, c.says)) << r.body;
    // One line of text.
    EXPECT_EQ(r.body.find('\n'), r.body.size() - 1) << r.body;
    EXPECT_TRUE(contains(r.headers, "text/plain")) << r.headers;
  }
  // JSON when asked for, with the reply code the socket would use.
  HttpReply j = curl(*tls_, port_, "/v1/sign/" + std::string(kTuple) + "?sha256=" + std::string(64, 'a'),
                     {"-X", "POST", "-H", "Accept: application/json"});
  EXPECT_EQ(j.status, 409);
  nlohmann::json body = nlohmann::json::parse(j.body);
  EXPECT_EQ(body["code"], "HASH_MISMATCH");
  EXPECT_EQ(body["error"], "hash_mismatch");
  EXPECT_EQ(body["status"], 409);
  EXPECT_TRUE(contains(body["message"].get<std::string>(), "nothing was signed"));
  EXPECT_EQ(signatures_of(d()), before);

  // 423 while locked, saying a person must unlock.
  ASSERT_EQ(d().lock().code, "OK");
  HttpReply locked = post(sign_url(kTuple));
  EXPECT_EQ(locked.status, 423) << locked.body;
  EXPECT_TRUE(contains(locked.body, "a person must run catsign unlock")) << locked.body;
  ASSERT_EQ(d().unlock().code, "OK") << d().log();
  EXPECT_EQ(post(sign_url(kTuple)).status, 200);
}

TEST_F(HttpFront, RequestsAreAuditedWithAddressAndCertificate) {
  ASSERT_EQ(post(sign_url("unstable/sparc/5.10")).status, 200);
  ASSERT_EQ(post("/v1/sign/unstable/sparc/5.10?sha256=" + std::string(64, 'b')).status, 409);
  ASSERT_EQ(get("/bogus").status, 404);
  auto records = audit_of(d());
  bool ok = false, mismatch = false, bogus = false;
  for (const auto& r : records) {
    if (!r.contains("peer") || !r["peer"].contains("address")) continue;
    EXPECT_EQ(r["peer"]["address"].get<std::string>().rfind("127.0.0.1:", 0), 0u) << r.dump();
    if (r["event"] == "sign" && r["tuple"] == "unstable/sparc/5.10") {
      EXPECT_TRUE(contains(r["peer"]["certificate"].get<std::string>(), "CN=push.example")) << r.dump();
      (r["result"] == "ok" ? ok : mismatch) = true;
    }
    if (r["event"] == "refuse" && contains(r["request"].get<std::string>(), "/bogus")) bogus = true;
  }
  EXPECT_TRUE(ok && mismatch && bogus) << read_text(d().audit_log());
}

TEST_F(HttpFront, NoCertificateOtherCaOrUnlistedNameGetsNoSignature) {
  long long before = signatures_of(d());
  HttpReply none = curl(*tls_, port_, sign_url(kTuple), {"-X", "POST"}, false);
  EXPECT_EQ(none.status, 403) << none.body << none.err;
  EXPECT_TRUE(contains(none.body, "client certificate")) << none.body;
  HttpReply other = curl(*tls_, port_, sign_url(kTuple),
                         {"-X", "POST", "--cert", tls_->intruder(), "--key", tls_->intruder_key()}, false);
  EXPECT_EQ(other.status, 403) << other.body << other.err;
  EXPECT_TRUE(contains(other.body, "not from the CA in [http] client_ca")) << other.body;
  HttpReply stranger = curl(*tls_, port_, sign_url(kTuple),
                            {"-X", "POST", "--cert", tls_->stranger(), "--key", tls_->stranger_key()}, false);
  EXPECT_EQ(stranger.status, 403) << stranger.body;
  EXPECT_TRUE(contains(stranger.body, "client_names")) << stranger.body;
  EXPECT_EQ(signatures_of(d()), before);
}

TEST_F(HttpFront, PlainHttpToTheTlsPortGetsNoSignature) {
  long long before = signatures_of(d());
  HttpReply r = curl(*tls_, port_, sign_url(kTuple), {"-X", "POST"}, true, "http");
  EXPECT_NE(r.status, 200);
  EXPECT_FALSE(contains(r.body, "PGP")) << r.body;
  EXPECT_EQ(signatures_of(d()), before);
  EXPECT_EQ(post(sign_url(kTuple)).status, 200) << "the front stopped serving";
}

TEST_F(HttpFront, PathTricksNeverReachAFileOutsideTheTree) {
  // A file outside the mirror that a trick would reach: its hash is the one asked for, so a
  // request that read it would get 409 or 200; every one must be refused before that.
  auto outside = d().dir() / "outside";
  std::filesystem::create_directories(outside / "i386/5.10");
  write_text(outside / "i386/5.10/catalog", "secret\n");
  write_text(outside / "secret.pkg.gz", "secret\n");
  TempDir t;
  write_text(t / "s", "secret\n");
  std::string sha = run({"sha256sum", (t / "s").string()}).out.substr(0, 64);
  const std::vector<std::string> tricks = {
      "/v1/sign/../outside/i386/5.10",
      "/v1/sign/unstable/..%2f..%2foutside/i386/5.10",
      "/v1/sign/unstable/%2e%2e/outside/i386/5.10",
      "/v1/sign/%2e%2e%2foutside/i386/5.10",
      "/v1/sign/unstable%2f..%2f..%2foutside/i386/5.10",
      "/v1/sign/unstable/i386/5.10%00/../../../outside",
      "/v1/sign/%252e%252e/outside/i386/5.10",
      "/v1/sign/unstable/i386/5.10/..%5c..%5c..",
      "/v1/sign/unstable//i386/5.10",
      "/v1/sign/unstable/i386/./5.10",
      "/v1/signpkg/../outside/secret.pkg.gz",
      "/v1/signpkg/unstable/..%2f..%2foutside%2fsecret.pkg.gz",
      "/v1/signpkg/%2e%2e/outside/secret.pkg.gz",
      "/v1/signpkg/%252e%252e/outside/secret.pkg.gz",
      "/v1/signpkg/unstable/%00/../../outside/secret.pkg.gz",
      "/detachsign/../outside/i386/5.10",
      "/clearsign/%2e%2e/outside/i386/5.10",
  };
  long long before = signatures_of(d());
  for (const std::string& trick : tricks) {
    SCOPED_TRACE(trick);
    // --path-as-is: curl would otherwise squash the dot segments itself.
    HttpReply r = curl(*tls_, port_, trick + "?sha256=" + sha, {"-X", "POST", "--path-as-is"});
    EXPECT_TRUE(r.status == 400 || r.status == 404) << r.status << " " << r.body;
    EXPECT_FALSE(contains(r.body, "PGP")) << r.body;
  }
  EXPECT_EQ(signatures_of(d()), before);
  // Nothing outside was read: no audit record carries the outside file's hash.
  for (const auto& r : audit_of(d()))
    EXPECT_NE(r.value("file_sha256", ""), sha) << r.dump();
}

TEST_F(HttpFront, CatsignRequestOverUrlExitsAsOverTheSocket) {
  TempDir t;
  auto out = (t / "catalog.signed").string();
  auto request = [&](std::vector<std::string> extra, const std::string& sha) {
    std::vector<std::string> args = {"request", "--url", "https://127.0.0.1:" + std::to_string(port_), "--cacert",
                                     tls_->ca(), kTuple, "--sha256", sha, "--clearsign", "--output", out};
    args.insert(args.end(), extra.begin(), extra.end());
    return d().catsign(args);
  };
  const std::vector<std::string> cert = {"--cert", tls_->client(), "--key", tls_->client_key()};
  RunResult ok = request(cert, d().sha256_of(kTuple));
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  expect_clients_verify(d(), kTuple, read_text(out), true);
  RunResult mismatch = request(cert, std::string(64, 'c'));
  EXPECT_EQ(mismatch.exit_code, 4) << mismatch.err;
  EXPECT_TRUE(contains(mismatch.err, "nothing was signed")) << mismatch.err;
  RunResult no_cert = request({}, d().sha256_of(kTuple));
  EXPECT_EQ(no_cert.exit_code, 5) << no_cert.err;
  ASSERT_EQ(d().lock().code, "OK");
  RunResult locked = request(cert, d().sha256_of(kTuple));
  EXPECT_EQ(locked.exit_code, 3) << locked.err;
  ASSERT_EQ(d().unlock().code, "OK");
  RunResult gone = d().catsign({"request", "--url", "https://127.0.0.1:" + std::to_string(free_port()), "--cacert",
                                tls_->ca(), kTuple, "--sha256", d().sha256_of(kTuple), "--output", out});
  EXPECT_EQ(gone.exit_code, 6) << gone.err;
  RunResult both = d().catsign({"request", "--url", "https://x:1", "--socket", "/tmp/x", kTuple, "--sha256",
                                d().sha256_of(kTuple), "--output", out});
  EXPECT_EQ(both.exit_code, 2) << both.err;
}

TEST(HttpFrontAllow, AddressOutsideAllowIsRefusedAtAccept) {
  TlsFiles tls;
  int port = free_port();
  DaemonOptions o;
  o.extra_config = http_section(tls, port, "allow = [\"192.0.2.0/24\", \"2001:db8::/32\"]\n");
  DaemonFixture d(o);
  ASSERT_EQ(d.unlock().code, "OK");
  HttpReply r = curl(tls, port, "/v1/sign/" + std::string(kTuple) + "?sha256=" + d.sha256_of(kTuple), {"-X", "POST"});
  EXPECT_EQ(r.status, 0) << "an HTTP reply came back: " << r.body;
  EXPECT_NE(r.curl_exit, 0);
  EXPECT_EQ(signatures_of(d), 0);
  // Refused at accept, before TLS: audited with the address, and no request ever parsed.
  bool audited = false;
  for (int i = 0; i < 50 && !audited; ++i) {
    for (const auto& rec : audit_of(d))
      if (rec["event"] == "refuse" && rec["peer"].contains("address") &&
          contains(rec.value("message", ""), "refused at accept"))
        audited = true;
    if (!audited) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(audited) << read_text(d.audit_log());
  EXPECT_TRUE(contains(d.log(), "not in [http] allow")) << d.log();
}

TEST(HttpFrontGate, PackagesUnsignedIs422) {
  TlsFiles tls;
  int port = free_port();
  DaemonOptions o;
  o.package_key = true;
  o.require_package_signatures = true;
  o.extra_config = http_section(tls, port);
  DaemonFixture d(o);
  ASSERT_EQ(d.unlock().code, "OK");
  HttpReply r = curl(tls, port, "/v1/sign/" + std::string(kTuple) + "?sha256=" + d.sha256_of(kTuple), {"-X", "POST"});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.body.find('\n'), r.body.size() - 1) << r.body;
}

TEST(HttpFrontToken, TokenErrorIs503) {
  TlsFiles tls;
  TempDir control;
  int port = free_port();
  DaemonOptions o;
  o.module = FAULTY_PKCS11_MODULE;
  o.env["FAULTY_PKCS11_CONTROL"] = (control / "control").string();
  o.extra_config = http_section(tls, port);
  DaemonFixture d(o);
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  write_text(control / "control.new", "fail C_Sign 1 CKR_GENERAL_ERROR\n");
  std::filesystem::rename(control / "control.new", control / "control");
  HttpReply r = curl(tls, port, "/v1/sign/" + std::string(kTuple) + "?sha256=" + d.sha256_of(kTuple),
                     {"-X", "POST", "-H", "Accept: application/json"});
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["code"], "TOKEN_ERROR") << r.body;
}

TEST(HttpFrontPlain, TlsFalseServesPlainHttpWithAWarning) {
  int port = free_port();
  DaemonOptions o;
  o.extra_config = "\n[http]\nlisten = [\"127.0.0.1:" + std::to_string(port) + "\"]\ntls = false\n";
  DaemonFixture d(o);
  ASSERT_EQ(d.unlock().code, "OK");
  RunResult r = run({"curl", "-sS", "-X", "POST", "-w", "\n%{http_code}",
                     "http://127.0.0.1:" + std::to_string(port) + "/v1/sign/" + kTuple + "?sha256=" + d.sha256_of(kTuple)});
  EXPECT_TRUE(contains(r.out, "-----BEGIN PGP SIGNATURE-----")) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "\n200")) << r.out;
  EXPECT_TRUE(contains(d.log(), "tls = false")) << d.log();
}

}  // namespace
}  // namespace catsign::testing
