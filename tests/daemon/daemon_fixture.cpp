// SPDX-License-Identifier: Apache-2.0
#include "daemon_fixture.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <botan/hash.h>
#include <botan/hex.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace catsign::testing {

namespace {

const std::string kCatsign = CATSIGN_BINARY;
const std::string kCatsignd = CATSIGND_BINARY;
const std::string kSource = CATSIGN_SOURCE_DIR;
const std::string kSoftHsm = "/usr/lib/softhsm/libsofthsm2.so";

}  // namespace

void chown_tree(const std::filesystem::path& root, uid_t uid) {
  if (::lchown(root.c_str(), uid, uid) != 0) throw std::runtime_error("chown " + root.string() + " failed");
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (::lchown(e.path().c_str(), uid, uid) != 0) throw std::runtime_error("chown " + e.path().string() + " failed");
}

std::vector<std::string> DaemonFixture::tuples() {
  return {"unstable/i386/5.10", "unstable/sparc/5.10", "dublin/sparc/5.9", "kiel/i386/5.11"};
}

DaemonFixture::DaemonFixture(DaemonOptions options) : options_(std::move(options)) {
  auto d = dir();
  std::filesystem::create_directories(d / "softhsm");
  std::filesystem::create_directories(d / "keys");
  RunResult t = run({"bash", kSource + "/softhsm-fixtures/make-token", (d / "softhsm").string(), "catsign",
                     "12345678", kPin});
  if (t.exit_code != 0) throw std::runtime_error("make-token failed: " + t.err);

  std::string lines = read_text(kSource + "/tests/data/opencsw/example-catalog.txt");
  int n = 0;
  for (const std::string& tuple : tuples()) {
    std::filesystem::create_directories(root() / tuple);
    // Different catalogs per tuple, so a signature for one never fits another.
    write_text(catalog(tuple), "# CREATIONDATE 2026-11-25T00:00:0" + std::to_string(n++) + "Z\n" + lines);
  }
  std::filesystem::create_directory_symlink("dublin", root() / "testing");

  write_text(config(),
             "[token]\nmodule = \"" + kSoftHsm + "\"\nsessions = " + std::to_string(options_.sessions) +
                 (options_.sign_timeout.empty() ? "" : "\nsign_timeout = \"" + options_.sign_timeout + "\"") +
                 "\n\n[keys.catalog]\nuri = \"pkcs11:token=catsign;object=catalog-test\"\n"
                 "certificate = \"keys/catalog.asc\"\nrevocation = \"keys/catalog.rev.asc\"\n\n"
                 "[daemon]\nsocket = \"run/sign.sock\"\nadmin_socket = \"run/admin.sock\"\n"
                 "unlock_window = \"" + options_.unlock_window + "\"\nwarn_before = \"" + options_.warn_before +
                 "\"\nrequest_timeout = \"" + options_.request_timeout + "\"\nmax_connections = " +
                 std::to_string(options_.max_connections) +
                 (options_.sign_uids.empty() ? "" : "\nsign_uids = " + options_.sign_uids) +
                 (options_.sign_gids.empty() ? "" : "\nsign_gids = " + options_.sign_gids) +
                 (options_.admin_uids.empty() ? "" : "\nadmin_uids = " + options_.admin_uids) +
                 (options_.expiry_command.empty() ? "" : "\nexpiry_command = '" + options_.expiry_command + "'") +
                 "\n\n[catalogs]\nroot = \"mirror\"\nreleases = [\"unstable\", \"testing\", \"dublin\", \"kiel\"]\n"
                 "arches = [\"sparc\", \"i386\"]\nosrels = [\"5.9\", \"5.10\", \"5.11\"]\n" +
                 (options_.second_catalog_key ? "key = [\"catalog\", \"catalog-next\"]\n" : "key = \"catalog\"\n") +
                 (options_.max_size == 0 ? "" : "max_size = " + std::to_string(options_.max_size) + "\n") +
                 (options_.require_package_signatures
                      ? "require_package_signatures = true\npackage_keyring = \"keys/package.asc\"\n"
                      : "") +
                 (options_.package_key
                      ? "\n[keys.package]\nuri = \"pkcs11:token=catsign;object=package-test\"\n"
                        "certificate = \"keys/package.asc\"\nrevocation = \"keys/package.rev.asc\"\n\n"
                        "[packages]\nroot = \"mirror\"\nkey = \"package\"\n"
                      : "") +
                 (options_.second_catalog_key
                      ? "\n[keys.catalog-next]\nuri = \"pkcs11:token=catsign;object=catalog-next\"\n"
                        "certificate = \"keys/catalog-next.asc\"\nrevocation = \"keys/catalog-next.rev.asc\"\n"
                      : "") +
                 "\n[audit]\nlog = \"state/audit.jsonl\"\n" + options_.extra_config);
  if (options_.example_config) {
    // The folders an install makes (packaging/README.md): the state and spool folders, the
    // package tree beside the catalogs.
    std::string text = read_text(kSource + "/packaging/catsign.toml.example");
    auto move = [&](const std::string& from, const std::string& to) {
      for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    };
    move("/etc/catsign/", (d / "keys").string() + "/");
    move("/run/catsign/", (d / "run").string() + "/");
    move("/srv/opencsw/mirror", root().string());
    move("/var/spool/catsign", (d / "spool").string());
    move("/var/lib/catsign/", (d / "state").string() + "/");
    move("module = \"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\"", "module = \"" + kSoftHsm + "\"");
    std::filesystem::create_directories(root() / "allpkgs");
    std::filesystem::create_directories(d / "spool");
    std::filesystem::create_directories(d / "state");
    write_text(config(), text);
  }
  std::string pin = std::string(kPin) + "\n";
  std::vector<std::string> keygen = {"keygen", "--config", config().string(), "--key", "catalog", "--algo",
                                     options_.algo, "--uid", "Catalog Test <catalog@example.org>", "--pin-fd", "3"};
  if (!options_.key_expires.empty()) keygen.insert(keygen.end(), {"--expires", options_.key_expires});
  RunResult k = catsign(keygen, &pin);
  if (k.exit_code != 0) throw std::runtime_error("catsign keygen failed: " + k.err);
  if (options_.package_key) {
    k = catsign({"keygen", "--config", config().string(), "--key", "package", "--algo", options_.algo, "--uid",
                 "Package Test <packages@example.org>", "--pin-fd", "3"}, &pin);
    if (k.exit_code != 0) throw std::runtime_error("catsign keygen (package) failed: " + k.err);
  }
  if (options_.second_catalog_key) {
    k = catsign({"keygen", "--config", config().string(), "--key", "catalog-next", "--bits", "2048", "--uid",
                 "Catalog Next <catalog-next@example.org>", "--pin-fd", "3"}, &pin);
    if (k.exit_code != 0) throw std::runtime_error("catsign keygen (catalog-next) failed: " + k.err);
  }
  if (!options_.module.empty()) {
    // The token and key were made through SoftHSM; the daemon loads the module asked for.
    std::string text = read_text(config());
    std::string from = "module = \"" + kSoftHsm + "\"";
    text.replace(text.find(from), from.size(), "module = \"" + options_.module + "\"");
    write_text(config(), text);
  }
  if (options_.run_as) chown_tree(dir(), *options_.run_as);
  start();
}

DaemonFixture::~DaemonFixture() { stop(); }

void DaemonFixture::start() {
  std::string log_path = (dir() / "catsignd.log").string();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    for (int fd = 3; fd < 1024; ++fd) ::close(fd);
    if (options_.run_as && (::setgroups(0, nullptr) != 0 || ::setgid(*options_.run_as) != 0 ||
                            ::setuid(*options_.run_as) != 0))
      _exit(126);
    ::setenv("SOFTHSM2_CONF", softhsm_conf().c_str(), 1);
    for (const auto& [name, value] : options_.env) ::setenv(name.c_str(), value.c_str(), 1);
    if (!options_.journal_stream.empty()) {
      struct stat st {};
      ::fstat(2, &st);
      unsigned long long ino = st.st_ino + (options_.journal_stream == "stderr" ? 0 : 1);
      ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(ino)).c_str(), 1);
    }
    ::execl(kCatsignd.c_str(), kCatsignd.c_str(), "--config", config().c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) throw std::runtime_error("catsignd exited at start: " + log());
    if (std::filesystem::exists(admin_socket()) && raw("PING\n").code == "OK") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("catsignd did not answer PING: " + log());
}

bool DaemonFixture::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void DaemonFixture::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 500; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_status_ = status;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int DaemonFixture::signal_and_wait(int sig, int timeout_s) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

std::string DaemonFixture::log() const { return read_text(dir() / "catsignd.log"); }

std::string DaemonFixture::sha256_of(const std::string& tuple) const {
  std::string data = read_text(catalog(tuple));
  auto h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(data);
  return Botan::hex_encode(h->final(), false);
}

Reply DaemonFixture::raw(const std::string& bytes, bool admin, int timeout_s) const {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = (admin ? admin_socket() : sign_socket()).string();
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {"UNREACHABLE", std::strerror(errno), true};
  }
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string in;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  Reply r;
  for (;;) {
    std::size_t nl = in.find('\n');
    if (nl != std::string::npos) {
      std::string header = in.substr(0, nl);
      if (header.rfind("ERR ", 0) == 0) {
        std::size_t sp = header.find(' ', 4);
        r.code = header.substr(4, sp - 4);
        r.payload = sp == std::string::npos ? "" : header.substr(sp + 1);
        break;
      }
      if (header.rfind("OK ", 0) == 0) {
        std::size_t need = std::stoull(header.substr(3));
        if (in.size() - nl - 1 >= need) {
          r.code = "OK";
          r.payload = in.substr(nl + 1, need);
          break;
        }
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      r.code = "TIMEOUT";
      break;
    }
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left));
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      r.closed_without_reply = true;
      r.code = "CLOSED";
      r.payload = in;
      break;
    }
    if (n > 0) in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return r;
}

Reply DaemonFixture::sign(const std::string& tuple, const std::string& options) const {
  return raw("SIGN " + tuple + " sha256=" + sha256_of(tuple) + (options.empty() ? "" : " " + options) + "\n");
}

std::string DaemonFixture::status() const { return raw("STATUS\n").payload; }

RunResult DaemonFixture::catsign(const std::vector<std::string>& args, const std::string* pin) const {
  std::vector<std::string> argv = {kCatsign};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, "", {{"SOFTHSM2_CONF", softhsm_conf()}}, pin);
}

void expect_clients_verify(const DaemonFixture& d, const std::string& tuple, const std::string& signature,
                           bool cleartext) {
  TempDir t;
  GpgHome gpg(d.cert());
  // gpg and sqv tell armored from binary by the content, whatever the name.
  auto sig = t / (cleartext ? "catalog.signed" : "catalog.sig");
  write_text(sig, signature);
  std::vector<std::string> args = {"--verify-options", "show-notations", "--status-fd", "1", "--verify", sig.string()};
  if (!cleartext) args.push_back(d.catalog(tuple).string());
  RunResult g = gpg.gpg(args);
  EXPECT_EQ(g.exit_code, 0) << g.err;
  EXPECT_NE(g.out.find("[GNUPG:] GOODSIG"), std::string::npos) << g.out;
  // The notation binding the signature to its catalog is visible in gpg's own output.
  EXPECT_NE(g.err.find("catalog@catsign=" + tuple), std::string::npos) << g.err;
  if (!cleartext) {
    RunResult s = run({"sqv", "--keyring", d.cert().string(), sig.string(), d.catalog(tuple).string()});
    EXPECT_EQ(s.exit_code, 0) << s.err;
  } else {
    RunResult q = run({"sq", "verify", "--signer-cert", d.cert().string(), sig.string()});
    EXPECT_EQ(q.exit_code, 0) << q.err;
  }
}

}  // namespace catsign::testing
