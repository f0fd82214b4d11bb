// SPDX-License-Identifier: Apache-2.0
#include "http_support.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace catsign::testing {

namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv);
  if (r.exit_code != 0) throw std::runtime_error("openssl " + args[0] + " failed: " + r.err);
}

// An ECDSA P-256 key pair and certificate for `cn`, signed by `ca` (self-signed when empty).
void make_cert(const TempDir& d, const std::string& name, const std::string& cn, const std::string& ca,
               const std::string& ext) {
  std::string key = (d / (name + ".key")).string(), pem = (d / (name + ".pem")).string();
  std::string ext_file = (d / (name + ".ext")).string();
  write_text(ext_file, ext);
  if (ca.empty()) {
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
             "-out", pem, "-days", "2", "-subj", "/CN=" + cn, "-extensions", "v3_ca"});
    return;
  }
  std::string csr = (d / (name + ".csr")).string();
  openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
           "-out", csr, "-subj", "/CN=" + cn});
  openssl({"x509", "-req", "-in", csr, "-CA", (d / (ca + ".pem")).string(), "-CAkey", (d / (ca + ".key")).string(),
           "-CAcreateserial", "-out", pem, "-days", "2", "-extfile", ext_file});
}

}  // namespace

TlsFiles::TlsFiles() {
  make_cert(dir, "ca", "catsign test push CA", "", "");
  make_cert(dir, "other-ca", "someone else's CA", "", "");
  make_cert(dir, "server", "localhost", "ca",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  const std::string client_ext = "extendedKeyUsage=clientAuth\n";
  make_cert(dir, "push", "push.example", "ca", client_ext);
  make_cert(dir, "stranger", "stranger.example", "ca", client_ext);
  make_cert(dir, "intruder", "push.example", "other-ca", client_ext);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind failed");
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string http_section(const TlsFiles& tls, int port, const std::string& extra) {
  return "\n[http]\nlisten = [\"127.0.0.1:" + std::to_string(port) + "\"]\ntls_certificate = \"" + tls.server() +
         "\"\ntls_key = \"" + tls.server_key() + "\"\nclient_ca = \"" + tls.ca() + "\"\n" + extra;
}

HttpReply curl(const TlsFiles& tls, int port, const std::string& target, std::vector<std::string> args,
               bool client_cert, const std::string& scheme) {
  TempDir t;
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "30", "--cacert", tls.ca(), "-o",
                                   (t / "body").string(), "-D", (t / "headers").string(), "-w", "%{http_code}"};
  if (client_cert) {
    argv.insert(argv.end(), {"--cert", tls.client(), "--key", tls.client_key()});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(scheme + "://127.0.0.1:" + std::to_string(port) + target);
  RunResult r = run(argv);
  HttpReply h;
  h.curl_exit = r.exit_code;
  h.err = r.err;
  try {
    h.status = std::stoi(r.out);
  } catch (const std::exception&) {
    h.status = 0;
  }
  if (std::filesystem::exists(t / "body")) h.body = read_text(t / "body");
  if (std::filesystem::exists(t / "headers")) h.headers = read_text(t / "headers");
  return h;
}

}  // namespace catsign::testing
