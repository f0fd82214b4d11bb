// SPDX-License-Identifier: Apache-2.0
// catsignd against hostile and clumsy clients: tuples that try to leave the mirror, files that
// are not catalogs, malformed and oversized requests, idle and trickling peers, connection
// floods, peers that are not allowed, and a burst of concurrent signing whose audit trail must
// add up. Every refusal is a clear ERR with the right code, and the daemon keeps serving.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <latch>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const std::string kZeros(64, '0');

std::string sha256_hex(std::string_view data) {
  auto h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  return Botan::hex_encode(h->final(), false);
}

std::string sha256_file(const fs::path& p) { return sha256_hex(read_text(p)); }

long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t).count();
}

// Parses one reply from the front of `in`; consumes it and returns true when complete.
bool parse_reply(std::string& in, Reply& r) {
  std::size_t nl = in.find('\n');
  if (nl == std::string::npos) return false;
  std::string header = in.substr(0, nl);
  if (header.rfind("ERR ", 0) == 0) {
    std::size_t sp = header.find(' ', 4);
    r.code = header.substr(4, sp - 4);
    r.payload = sp == std::string::npos ? "" : header.substr(sp + 1);
    in.erase(0, nl + 1);
    return true;
  }
  if (header.rfind("OK ", 0) == 0) {
    std::size_t need = std::stoull(header.substr(3));
    if (in.size() - nl - 1 < need) return false;
    r.code = "OK";
    r.payload = in.substr(nl + 1, need);
    in.erase(0, nl + 1 + need);
    return true;
  }
  r.code = "GARBLED";
  r.payload = in;
  in.clear();
  return true;
}

// One connection held open by the test: for pipelining, trickling, idling and floods.
class Client {
 public:
  explicit Client(const fs::path& socket) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      connect_errno_ = errno;
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Whether a reply (or the close) has started to arrive, without waiting.
  bool has_input() {
    pollfd p{fd_, POLLIN, 0};
    return !in_.empty() || ::poll(&p, 1, 0) > 0;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  int connect_errno() const { return connect_errno_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Sends what the socket takes; false once the peer is gone.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // The next reply, or TIMEOUT / CLOSED (payload: any partial bytes).
  Reply read_reply(long long timeout_ms) {
    auto deadline = Clock::now() + milliseconds(timeout_ms);
    Reply r;
    for (;;) {
      if (parse_reply(in_, r)) return r;
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return {"TIMEOUT", in_, false};
      if (!fill(static_cast<int>(left))) return {"CLOSED", in_, true};
    }
  }

  // True when the daemon closes the connection within the time (nothing more may arrive).
  bool closed_within(long long timeout_ms) {
    auto deadline = Clock::now() + milliseconds(timeout_ms);
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      if (!fill(static_cast<int>(left))) return true;
    }
  }

 private:
  // Waits up to `timeout_ms` for bytes; false when the peer closed or reset.
  bool fill(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, timeout_ms);
    if (rc <= 0) return true;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      in_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    return false;
  }

  int fd_ = -1;
  int connect_errno_ = 0;
  std::string in_;
};

// The daemon is alive and still does its job: PING, STATUS and a real signature.
void expect_still_serves(DaemonFixture& d, const std::string& tuple = "unstable/i386/5.10") {
  ASSERT_TRUE(d.running()) << "catsignd died:\n" << d.log();
  Reply ping = d.raw("PING\n", false, 5);
  EXPECT_EQ(ping.code, "OK") << ping.payload;
  EXPECT_EQ(ping.payload, "PONG\n");
  auto t0 = Clock::now();
  Reply s = d.sign(tuple);
  EXPECT_EQ(s.code, "OK") << s.payload << "\n" << d.log();
  EXPECT_EQ(s.payload.rfind("-----BEGIN PGP SIGNATURE-----", 0), 0u);
  EXPECT_LT(ms_since(t0), 5000);
  EXPECT_TRUE(d.running()) << "catsignd died:\n" << d.log();
}

long long signatures_of(const DaemonFixture& d) {
  return nlohmann::json::parse(d.status())["signatures"].get<long long>();
}

// Polls `done` every 20 ms until it holds or `timeout_ms` have passed: for what the daemon
// does off the requester's path (audit records of refusals, log lines).
template <typename Done>
bool eventually(Done done, long long timeout_ms = 20000) {
  auto deadline = Clock::now() + milliseconds(timeout_ms);
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

std::vector<nlohmann::json> audit_records(const DaemonFixture& d) {
  std::vector<nlohmann::json> out;
  std::istringstream log(read_text(d.audit_log()));
  for (std::string line; std::getline(log, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

template <typename Pred>
int audit_count(const DaemonFixture& d, Pred pred) {
  int n = 0;
  for (const nlohmann::json& j : audit_records(d))
    if (pred(j)) ++n;
  return n;
}

void expect_audit_verifies(const DaemonFixture& d) {
  RunResult v = d.catsign({"audit", "verify", d.audit_log().string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
}

// One suite-wide daemon (unlocked) for the requests that need no special configuration;
// tests that need their own limits start their own.
class DaemonHostile : public ::testing::Test {
 protected:
  static DaemonFixture& shared() {
    if (!daemon_ || !daemon_->running()) {
      daemon_.reset();
      daemon_ = std::make_unique<DaemonFixture>();
      if (daemon_->unlock().code != "OK") throw std::runtime_error("unlock failed: " + daemon_->log());
    }
    return *daemon_;
  }
  static void TearDownTestSuite() { daemon_.reset(); }

  // Sends `line` on the sign (or admin) socket of the shared daemon and checks the ERR code,
  // that the message says something useful, and that nothing was signed.
  static void expect_refused(const std::string& bytes, const std::string& code, const std::string& says,
                             bool admin = false) {
    DaemonFixture& d = shared();
    long long before = signatures_of(d);
    auto t0 = Clock::now();
    Reply r = d.raw(bytes, admin, 10);
    EXPECT_EQ(r.code, code) << "payload: " << r.payload;
    EXPECT_NE(r.payload.find(says), std::string::npos) << "ERR " << r.code << " " << r.payload;
    EXPECT_FALSE(r.payload.empty());
    EXPECT_LT(ms_since(t0), 5000);
    EXPECT_EQ(signatures_of(d), before) << "a refused request was signed";
    expect_still_serves(d);
  }

  static std::unique_ptr<DaemonFixture> daemon_;
};

std::unique_ptr<DaemonFixture> DaemonHostile::daemon_;

std::string sign_line(const std::string& tuple, const std::string& sha = kZeros) {
  return "SIGN " + tuple + " sha256=" + sha + "\n";
}

// ---------------------------------------------------------------- tuples

TEST_F(DaemonHostile, TupleDotDot) { expect_refused(sign_line(".."), "BAD_REQUEST", "malformed catalog"); }

TEST_F(DaemonHostile, TupleParentTraversal) {
  expect_refused(sign_line("../../etc/passwd", sha256_file("/etc/passwd")), "BAD_REQUEST", "malformed catalog");
  expect_refused(sign_line("unstable/../../etc"), "BAD_REQUEST", "malformed catalog");
  expect_refused(sign_line("unstable/i386/.."), "BAD_REQUEST", "malformed catalog");
}

TEST_F(DaemonHostile, TupleAbsolutePath) {
  expect_refused(sign_line("/etc/passwd", sha256_file("/etc/passwd")), "BAD_REQUEST", "malformed catalog");
}

TEST_F(DaemonHostile, TupleWithNulByte) {
  std::string line = "SIGN unstable/i386/5.10";
  line += '\0';
  line += "/../../etc/passwd sha256=" + kZeros + "\n";
  expect_refused(line, "BAD_REQUEST", "not printable");
  std::string ping = "PING";
  ping += '\0';
  ping += "\n";
  expect_refused(ping, "BAD_REQUEST", "not printable");
}

TEST_F(DaemonHostile, TupleUnknownRelease) {
  expect_refused(sign_line("munich/i386/5.10"), "UNKNOWN_CATALOG", "unknown release 'munich'");
}

TEST_F(DaemonHostile, TupleUnknownArch) {
  expect_refused(sign_line("unstable/amd64/5.10"), "UNKNOWN_CATALOG", "unknown arch 'amd64'");
}

TEST_F(DaemonHostile, TupleUnknownOsrel) {
  expect_refused(sign_line("unstable/i386/5.12"), "UNKNOWN_CATALOG", "unknown osrel '5.12'");
}

TEST_F(DaemonHostile, TupleWrongCase) {
  expect_refused(sign_line("Unstable/i386/5.10", shared().sha256_of("unstable/i386/5.10")), "UNKNOWN_CATALOG",
                 "unknown release 'Unstable'");
  expect_refused(sign_line("unstable/I386/5.10", shared().sha256_of("unstable/i386/5.10")), "UNKNOWN_CATALOG",
                 "unknown arch 'I386'");
}

TEST_F(DaemonHostile, TupleExtraPart) {
  expect_refused(sign_line("unstable/i386/5.10/x"), "BAD_REQUEST", "4 parts");
  expect_refused(sign_line("unstable/i386/5.10/catalog"), "BAD_REQUEST", "4 parts");
}

TEST_F(DaemonHostile, TupleMissingPart) {
  expect_refused(sign_line("unstable/i386"), "BAD_REQUEST", "2 parts");
  expect_refused(sign_line("unstable"), "BAD_REQUEST", "1 part");
}

TEST_F(DaemonHostile, TupleTrailingOrDoubledSlash) {
  expect_refused(sign_line("unstable/i386/5.10/"), "BAD_REQUEST", "empty part");
  expect_refused(sign_line("unstable//i386/5.10"), "BAD_REQUEST", "empty part");
}

TEST_F(DaemonHostile, TupleConfiguredButAbsent) {
  // Every part is configured, but there is no such catalog in the mirror.
  expect_refused(sign_line("kiel/sparc/5.10"), "UNKNOWN_CATALOG", "does not exist");
}

TEST_F(DaemonHostile, SymlinkedCatalogEscapingToEtc) {
  DaemonFixture& d = shared();
  fs::create_directories(d.root() / "unstable/i386/5.11");
  fs::create_symlink("/etc/passwd", d.root() / "unstable/i386/5.11/catalog");
  // The right hash of what the link points at: only the escape may refuse it.
  expect_refused(sign_line("unstable/i386/5.11", sha256_file("/etc/passwd")), "UNKNOWN_CATALOG", "escapes");
}

TEST_F(DaemonHostile, SymlinkedCatalogEscapingRelative) {
  DaemonFixture& d = shared();
  write_text(d.dir() / "outside-catalog", read_text(d.catalog("unstable/i386/5.10")) + "# outside\n");
  fs::create_directories(d.root() / "unstable/sparc/5.11");
  fs::create_symlink("../../../../outside-catalog", d.root() / "unstable/sparc/5.11/catalog");
  ASSERT_TRUE(fs::exists(d.root() / "unstable/sparc/5.11/catalog"));  // it resolves, outside the root
  expect_refused(sign_line("unstable/sparc/5.11", sha256_file(d.dir() / "outside-catalog")), "UNKNOWN_CATALOG",
                 "escapes");
}

TEST_F(DaemonHostile, SymlinkedDirectoryEscaping) {
  DaemonFixture& d = shared();
  // dublin/i386 -> a tree outside the mirror holding a perfectly good catalog.
  fs::create_directories(d.dir() / "outside-tree/5.10");
  write_text(d.dir() / "outside-tree/5.10/catalog", read_text(d.catalog("dublin/sparc/5.9")) + "# outside\n");
  fs::create_directory_symlink("../../outside-tree", d.root() / "dublin/i386");
  ASSERT_TRUE(fs::exists(d.root() / "dublin/i386/5.10/catalog"));
  expect_refused(sign_line("dublin/i386/5.10", sha256_file(d.dir() / "outside-tree/5.10/catalog")),
                 "UNKNOWN_CATALOG", "escapes");
  // An absolute link to /etc is refused the same way.
  fs::create_directories(d.root() / "kiel/sparc");
  fs::create_directory_symlink("/etc", d.root() / "kiel/sparc/5.11");
  expect_refused(sign_line("kiel/sparc/5.11"), "UNKNOWN_CATALOG", "escapes");
}

TEST_F(DaemonHostile, FifoWhereTheCatalogShouldBe) {
  DaemonFixture& d = shared();
  fs::create_directories(d.root() / "kiel/sparc/5.9");
  ASSERT_EQ(::mkfifo((d.root() / "kiel/sparc/5.9/catalog").c_str(), 0644), 0) << std::strerror(errno);
  // More FIFO requests than the daemon has workers: if any opened the FIFO it would block,
  // and the valid request below would wait behind them.
  std::vector<std::unique_ptr<Client>> fifo;
  for (int i = 0; i < 6; ++i) {
    fifo.push_back(std::make_unique<Client>(d.sign_socket()));
    ASSERT_TRUE(fifo.back()->connected());
    ASSERT_TRUE(fifo.back()->send(sign_line("kiel/sparc/5.9")));
  }
  auto t0 = Clock::now();
  Reply ok = d.sign("unstable/sparc/5.10");
  EXPECT_EQ(ok.code, "OK") << ok.payload;
  EXPECT_LT(ms_since(t0), 5000) << "a FIFO held up another client";
  for (auto& c : fifo) {
    Reply r = c->read_reply(3000);
    EXPECT_EQ(r.code, "UNKNOWN_CATALOG") << r.payload;
    EXPECT_NE(r.payload.find("FIFO"), std::string::npos) << r.payload;
  }
  EXPECT_LT(ms_since(t0), 5000);
  expect_still_serves(d);
}

TEST_F(DaemonHostile, DirectoryWhereTheCatalogShouldBe) {
  DaemonFixture& d = shared();
  fs::create_directories(d.root() / "dublin/sparc/5.10/catalog");
  expect_refused(sign_line("dublin/sparc/5.10"), "UNKNOWN_CATALOG", "a directory");
}

// ---------------------------------------------------------------- protocol

TEST_F(DaemonHostile, HugeLineIsRefusedAndClosed) {
  DaemonFixture& d = shared();
  Client c(d.sign_socket());
  ASSERT_TRUE(c.connected());
  std::string line = "SIGN " + std::string(70 * 1024, 'a') + "\n";
  c.send(line);  // may fail halfway once the daemon has closed: that is fine
  Reply r = c.read_reply(5000);
  EXPECT_EQ(r.code, "BAD_REQUEST") << r.payload;
  EXPECT_NE(r.payload.find("longer than 1024"), std::string::npos) << r.payload;
  EXPECT_TRUE(c.closed_within(3000)) << "the connection stayed open after an oversized request";
  expect_still_serves(d);
}

TEST_F(DaemonHostile, BinaryJunk) {
  std::mt19937 rng(20261125);
  std::string junk;
  junk += '\xff';
  junk += '\0';
  for (int i = 0; i < 600; ++i) junk += static_cast<char>(rng() & 0xff);
  junk += '\xff';
  junk += '\n';
  expect_refused(junk, "BAD_REQUEST", "not printable");
  // Junk longer than a request, with no LF at all.
  std::string long_junk;
  for (int i = 0; i < 5000; ++i) {
    char c = static_cast<char>(rng() & 0xff);
    long_junk += c == '\n' ? '\0' : c;
  }
  expect_refused(long_junk, "BAD_REQUEST", "longer than 1024");
}

TEST_F(DaemonHostile, LowercaseVerb) {
  expect_refused("ping\n", "BAD_REQUEST", "unknown request");
  expect_refused("sign unstable/i386/5.10 sha256=" + shared().sha256_of("unstable/i386/5.10") + "\n", "BAD_REQUEST",
                 "unknown request");
}

TEST_F(DaemonHostile, DoubleSpaces) {
  const std::string sha = shared().sha256_of("unstable/i386/5.10");
  expect_refused("SIGN  unstable/i386/5.10 sha256=" + sha + "\n", "BAD_REQUEST", "single spaces");
  expect_refused("SIGN unstable/i386/5.10  sha256=" + sha + "\n", "BAD_REQUEST", "single spaces");
  expect_refused("SIGN unstable/i386/5.10 sha256=" + sha + " \n", "BAD_REQUEST", "single spaces");
}

TEST_F(DaemonHostile, MissingSha256) {
  expect_refused("SIGN unstable/i386/5.10\n", "BAD_REQUEST", "sha256=");
  expect_refused("SIGN unstable/i386/5.10 mode=clearsign\n", "BAD_REQUEST", "sha256=");
  expect_refused("SIGN unstable/i386/5.10 sha256=\n", "BAD_REQUEST", "64 lowercase hex");
}

TEST_F(DaemonHostile, Sha256UppercaseOrShort) {
  std::string sha = shared().sha256_of("unstable/i386/5.10");
  std::string upper = sha;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_NE(upper, sha);
  expect_refused(sign_line("unstable/i386/5.10", upper), "BAD_REQUEST", "64 lowercase hex");
  expect_refused(sign_line("unstable/i386/5.10", sha.substr(0, 63)), "BAD_REQUEST", "64 lowercase hex");
  expect_refused(sign_line("unstable/i386/5.10", sha + "0"), "BAD_REQUEST", "64 lowercase hex");
  expect_refused(sign_line("unstable/i386/5.10", sha.substr(0, 63) + "g"), "BAD_REQUEST", "64 lowercase hex");
}

TEST_F(DaemonHostile, BadModeAndArmor) {
  std::string base = "SIGN unstable/i386/5.10 sha256=" + shared().sha256_of("unstable/i386/5.10");
  expect_refused(base + " mode=both\n", "BAD_REQUEST", "mode= must be");
  expect_refused(base + " armor=maybe\n", "BAD_REQUEST", "armor= must be");
  expect_refused(base + " mode=clearsign armor=no\n", "BAD_REQUEST", "always armored");
  expect_refused(base + " colour=blue\n", "BAD_REQUEST", "unknown option");
}

TEST_F(DaemonHostile, DuplicateOptions) {
  std::string sha = shared().sha256_of("unstable/i386/5.10");
  std::string base = "SIGN unstable/i386/5.10 sha256=" + sha;
  expect_refused(base + " sha256=" + sha + "\n", "BAD_REQUEST", "given twice");
  expect_refused(base + " mode=detached mode=clearsign\n", "BAD_REQUEST", "given twice");
  expect_refused(base + " armor=yes armor=yes\n", "BAD_REQUEST", "given twice");
}

TEST_F(DaemonHostile, EmptyLine) { expect_refused("\n", "BAD_REQUEST", "empty request"); }

TEST_F(DaemonHostile, CrlfLineEnding) {
  expect_refused("PING\r\n", "BAD_REQUEST", "not printable");
  expect_refused("SIGN unstable/i386/5.10 sha256=" + shared().sha256_of("unstable/i386/5.10") + "\r\n",
                 "BAD_REQUEST", "not printable");
}

TEST_F(DaemonHostile, SignOnAdminSocketIsDenied) {
  expect_refused("SIGN unstable/i386/5.10 sha256=" + shared().sha256_of("unstable/i386/5.10") + "\n", "DENIED",
                 "admin socket takes", true);
}

TEST_F(DaemonHostile, UnlockOnSignSocketIsDenied) {
  expect_refused(std::string("UNLOCK\n") + DaemonFixture::kPin + "\n", "DENIED", "admin socket only");
  expect_refused("LOCK now\n", "DENIED", "admin socket only");
  EXPECT_EQ(nlohmann::json::parse(shared().status())["state"], "unlocked");
  EXPECT_EQ(shared().log().find(DaemonFixture::kPin), std::string::npos) << "the PIN was logged";
}

TEST_F(DaemonHostile, HalfRequestThenDisconnect) {
  DaemonFixture& d = shared();
  for (const std::string& half : {std::string("SIGN unstable/i386/5.10 sha2"), std::string("PI"),
                                  "SIGN unstable/i386/5.10 sha256=" + d.sha256_of("unstable/i386/5.10")}) {
    Client c(d.sign_socket());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send(half));
    std::this_thread::sleep_for(milliseconds(50));
    c.close();
  }
  {
    Client a(d.admin_socket());  // an UNLOCK whose PIN line never ends
    ASSERT_TRUE(a.connected());
    ASSERT_TRUE(a.send("UNLOCK\n8391"));
    std::this_thread::sleep_for(milliseconds(50));
  }
  std::this_thread::sleep_for(milliseconds(100));
  expect_still_serves(d);
  EXPECT_EQ(nlohmann::json::parse(d.status())["state"], "unlocked");
}

TEST_F(DaemonHostile, SeveralRequestsOnOneConnection) {
  DaemonFixture& d = shared();
  const std::string sign = sign_line("unstable/i386/5.10", d.sha256_of("unstable/i386/5.10"));
  {
    // One at a time, each after the previous reply.
    Client c(d.sign_socket());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send("PING\n"));
    Reply r = c.read_reply(5000);
    EXPECT_EQ(r.code, "OK");
    EXPECT_EQ(r.payload, "PONG\n");
    ASSERT_TRUE(c.send("STATUS\n"));
    r = c.read_reply(5000);
    ASSERT_EQ(r.code, "OK");
    EXPECT_EQ(nlohmann::json::parse(r.payload)["state"], "unlocked");
    ASSERT_TRUE(c.send(sign));
    r = c.read_reply(10000);
    EXPECT_EQ(r.code, "OK") << r.payload;
    EXPECT_EQ(r.payload.rfind("-----BEGIN PGP SIGNATURE-----", 0), 0u);
    ASSERT_TRUE(c.send("PING\n"));
    EXPECT_EQ(c.read_reply(5000).code, "OK");
  }
  {
    // All in one write, a request queued behind a SIGN the workers are still doing.
    Client c(d.sign_socket());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send("PING\nSTATUS\n" + sign + "PING\n" + sign));
    Reply r = c.read_reply(5000);
    EXPECT_EQ(r.code, "OK");
    EXPECT_EQ(r.payload, "PONG\n");
    r = c.read_reply(5000);
    ASSERT_EQ(r.code, "OK");
    EXPECT_EQ(nlohmann::json::parse(r.payload)["state"], "unlocked");
    r = c.read_reply(10000);
    EXPECT_EQ(r.code, "OK") << r.payload;
    EXPECT_EQ(r.payload.rfind("-----BEGIN PGP SIGNATURE-----", 0), 0u);
    r = c.read_reply(5000);
    EXPECT_EQ(r.code, "OK") << r.payload;
    EXPECT_EQ(r.payload, "PONG\n");
    r = c.read_reply(10000);
    EXPECT_EQ(r.code, "OK") << r.payload;
    EXPECT_EQ(r.payload.rfind("-----BEGIN PGP SIGNATURE-----", 0), 0u);
  }
  expect_still_serves(d);
}

TEST_F(DaemonHostile, RequestsThenHalfClose) {
  // A client that writes its requests and then shuts down its sending side, as
  // `printf 'PING\n' | nc -N -U sign.sock` or socat do: every request already sent is answered
  // before the daemon closes.
  DaemonFixture& d = shared();
  const std::string sign = sign_line("unstable/i386/5.10", d.sha256_of("unstable/i386/5.10"));
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    {
      Client c(d.sign_socket());
      ASSERT_TRUE(c.connected());
      ASSERT_TRUE(c.send("PING\n"));
      c.shutdown_write();
      Reply r = c.read_reply(5000);
      EXPECT_EQ(r.code, "OK") << r.payload;
      EXPECT_EQ(r.payload, "PONG\n");
      EXPECT_TRUE(c.closed_within(3000));
    }
    {
      Client c(d.sign_socket());
      ASSERT_TRUE(c.connected());
      ASSERT_TRUE(c.send(sign + "PING\n"));
      c.shutdown_write();
      Reply r = c.read_reply(10000);
      EXPECT_EQ(r.code, "OK") << r.payload;
      EXPECT_EQ(r.payload.rfind("-----BEGIN PGP SIGNATURE-----", 0), 0u);
      r = c.read_reply(5000);
      EXPECT_EQ(r.code, "OK") << r.payload;
      EXPECT_EQ(r.payload, "PONG\n");
    }
  }
  expect_still_serves(d);
}

// ---------------------------------------------------------------- slow and idle peers

TEST_F(DaemonHostile, SilentClientTimesOut) {
  DaemonOptions options;
  options.request_timeout = "2s";
  DaemonFixture d(options);
  ASSERT_EQ(d.unlock().code, "OK");
  Client c(d.sign_socket());
  ASSERT_TRUE(c.connected());
  auto t0 = Clock::now();
  Reply r = c.read_reply(6000);
  long long took = ms_since(t0);
  EXPECT_EQ(r.code, "BAD_REQUEST") << r.payload;
  EXPECT_NE(r.payload.find("request timed out"), std::string::npos) << r.payload;
  EXPECT_GE(took, 1500);
  EXPECT_LE(took, 4000);
  EXPECT_TRUE(c.closed_within(2000));
  expect_still_serves(d);
}

TEST_F(DaemonHostile, TricklingClientIsCutOffAtTheDeadline) {
  DaemonOptions options;
  options.request_timeout = "2s";
  DaemonFixture d(options);
  ASSERT_EQ(d.unlock().code, "OK");
  Client c(d.sign_socket());
  ASSERT_TRUE(c.connected());
  const std::string line = sign_line("unstable/i386/5.10", d.sha256_of("unstable/i386/5.10"));
  auto t0 = Clock::now();
  Reply r;
  std::size_t sent = 0;
  for (; sent < line.size(); ++sent) {
    if (!c.send(line.substr(sent, 1))) break;
    r = c.read_reply(500);
    if (r.code != "TIMEOUT") break;
  }
  long long took = ms_since(t0);
  EXPECT_EQ(r.code, "BAD_REQUEST") << r.payload << " after " << sent << " bytes";
  EXPECT_NE(r.payload.find("request timed out"), std::string::npos) << r.payload;
  EXPECT_LT(sent, 10u) << "trickling kept the connection alive";
  EXPECT_GE(took, 1500);
  EXPECT_LE(took, 4000);
  EXPECT_TRUE(c.closed_within(2000));
  expect_still_serves(d);
}

TEST_F(DaemonHostile, FortyIdleConnectionsDoNotStarveOthers) {
  DaemonFixture& d = shared();
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 40; ++i) {
    idle.push_back(std::make_unique<Client>(i % 4 == 3 ? d.admin_socket() : d.sign_socket()));
    ASSERT_TRUE(idle.back()->connected()) << i;
    if (i % 2 == 1) {
      ASSERT_TRUE(idle.back()->send(i % 4 == 3 ? "UNL" : "SIGN unstable/i386/5.10 sha256=00"));
    }
  }
  std::this_thread::sleep_for(milliseconds(200));
  for (const std::string& tuple : DaemonFixture::tuples()) {
    auto t0 = Clock::now();
    Reply r = d.sign(tuple);
    EXPECT_EQ(r.code, "OK") << tuple << ": " << r.payload;
    EXPECT_LT(ms_since(t0), 5000) << tuple;
  }
  // The idle ones are still open and waiting (no reply yet: their deadline is 10 s).
  for (auto& c : idle) EXPECT_EQ(c->read_reply(0).code, "TIMEOUT");
  idle.clear();
  expect_still_serves(d);
}

// ---------------------------------------------------------------- floods

TEST_F(DaemonHostile, MoreConnectionsThanMaxGetBusy) {
  DaemonOptions options;
  options.max_connections = 20;
  DaemonFixture d(options);
  ASSERT_EQ(d.unlock().code, "OK");
  std::this_thread::sleep_for(milliseconds(300));  // the fixture's own connections are gone
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 30; ++i) {
    clients.push_back(std::make_unique<Client>(d.sign_socket()));
    ASSERT_TRUE(clients.back()->connected()) << i;
  }
  int busy = 0, waiting = 0;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    Reply r = clients[i]->read_reply(i < 20 ? 200 : 2000);
    if (r.code == "BUSY") {
      ++busy;
      EXPECT_NE(r.payload.find("too many connections"), std::string::npos) << r.payload;
      EXPECT_TRUE(clients[i]->closed_within(2000));
    } else {
      EXPECT_EQ(r.code, "TIMEOUT") << i << ": " << r.payload;
      ++waiting;
    }
  }
  EXPECT_EQ(busy, 10);
  EXPECT_EQ(waiting, 20);
  // Still full: one more is turned away. The admin socket has a reserve of its own.
  EXPECT_EQ(d.raw("PING\n", false, 5).code, "BUSY");
  EXPECT_EQ(d.raw("STATUS\n", true, 5).code, "OK");
  // One of the held connections still works.
  ASSERT_TRUE(clients[0]->send("PING\n"));
  EXPECT_EQ(clients[0]->read_reply(5000).code, "OK");
  clients.clear();
  std::this_thread::sleep_for(milliseconds(300));  // let the daemon see the hangups
  expect_still_serves(d);
}

// ---------------------------------------------------------------- peers that are not allowed

constexpr uid_t kNobody = 65534;

// Runs a client as uid/gid 65534 in a child process: connects to `socket`, sends `request`,
// and returns what came back (or "CONNECT_FAILED <errno>").
std::string as_nobody(const fs::path& socket, const std::string& request) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    ::close(out[0]);
    char msg[64];
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      (void)!::write(out[1], "SETUID_FAILED", 13);
      _exit(2);
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      int e = errno;
      int n = 0;
      const char prefix[] = "CONNECT_FAILED ";
      for (const char* p = prefix; *p; ++p) msg[n++] = *p;
      char digits[12];
      int k = 0;
      do {
        digits[k++] = static_cast<char>('0' + e % 10);
        e /= 10;
      } while (e > 0);
      while (k > 0) msg[n++] = digits[--k];
      (void)!::write(out[1], msg, static_cast<std::size_t>(n));
      _exit(3);
    }
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    // Reads until one whole reply ("ERR ...\n" or "OK <n>\n" and n bytes) or the close.
    static char buf[1 << 16];
    std::size_t have = 0;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) break;
      ssize_t n = ::recv(fd, buf + have, sizeof buf - have, 0);
      if (n <= 0) break;
      have += static_cast<std::size_t>(n);
      const char* nl = static_cast<const char*>(std::memchr(buf, '\n', have));
      if (!nl) continue;
      std::size_t header = static_cast<std::size_t>(nl - buf) + 1;
      if (have >= 3 && std::memcmp(buf, "OK ", 3) == 0) {
        std::size_t need = 0;
        for (const char* q = buf + 3; q < nl && *q >= '0' && *q <= '9'; ++q)
          need = need * 10 + static_cast<std::size_t>(*q - '0');
        if (have - header < need) continue;
      }
      break;
    }
    (void)!::write(out[1], buf, have);
    _exit(0);
  }
  ::close(out[1]);
  std::string got;
  char buf[4096];
  for (;;) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 20000) <= 0) break;
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return got;
}

Reply reply_of(std::string text) {
  Reply r;
  if (text.rfind("CONNECT_FAILED", 0) == 0 || text.rfind("SETUID_FAILED", 0) == 0 || !parse_reply(text, r))
    return {"NO_REPLY", text, true};
  return r;
}

// Lets uid 65534 reach the sockets, so that the daemon's SO_PEERCRED check is what decides.
void open_up_for_nobody(const DaemonFixture& d) {
  ASSERT_EQ(::chmod(d.dir().c_str(), 0711), 0);
  ASSERT_EQ(::chmod((d.dir() / "run").c_str(), 0711), 0);
  for (fs::path p = d.dir().parent_path(); p != p.root_path(); p = p.parent_path()) {
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0);
    ASSERT_TRUE(st.st_mode & S_IXOTH) << p << " is not searchable by others";
  }
  ASSERT_EQ(::chmod(d.sign_socket().c_str(), 0666), 0);
  ASSERT_EQ(::chmod(d.admin_socket().c_str(), 0666), 0);
}

TEST_F(DaemonHostile, PeerNotAllowedIsDenied) {
  if (::getuid() != 0) GTEST_FAIL() << "this test needs root to run a client as uid 65534";
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  // The socket modes alone keep nobody out (sign 0660, admin 0600, owned by root).
  ASSERT_EQ(::chmod(d.dir().c_str(), 0711), 0);
  ASSERT_EQ(::chmod((d.dir() / "run").c_str(), 0711), 0);
  EXPECT_EQ(as_nobody(d.sign_socket(), "PING\n"), "CONNECT_FAILED " + std::to_string(EACCES));
  EXPECT_EQ(as_nobody(d.admin_socket(), "STATUS\n"), "CONNECT_FAILED " + std::to_string(EACCES));

  open_up_for_nobody(d);
  Reply r = reply_of(as_nobody(d.sign_socket(), sign_line("unstable/i386/5.10", d.sha256_of("unstable/i386/5.10"))));
  EXPECT_EQ(r.code, "DENIED") << r.payload;
  EXPECT_NE(r.payload.find("uid 65534"), std::string::npos) << r.payload;
  EXPECT_NE(r.payload.find("sign socket"), std::string::npos) << r.payload;
  r = reply_of(as_nobody(d.sign_socket(), "PING\n"));
  EXPECT_EQ(r.code, "DENIED") << r.payload;
  r = reply_of(as_nobody(d.admin_socket(), "LOCK hostile\n"));
  EXPECT_EQ(r.code, "DENIED") << r.payload;
  EXPECT_NE(r.payload.find("uid 65534"), std::string::npos) << r.payload;
  EXPECT_NE(r.payload.find("admin socket"), std::string::npos) << r.payload;
  r = reply_of(as_nobody(d.admin_socket(), std::string("UNLOCK\n") + DaemonFixture::kPin + "\n"));
  EXPECT_EQ(r.code, "DENIED") << r.payload;
  EXPECT_EQ(nlohmann::json::parse(d.status())["state"], "unlocked") << "nobody locked the token";
  EXPECT_EQ(signatures_of(d), 0);
  // The refusals are audited with the peer (off the event thread: they may take a moment).
  auto denied = [&] {
    return audit_count(d, [](const nlohmann::json& j) {
      return j["event"] == "refuse" && j["code"] == "DENIED" && j["peer"]["uid"] == kNobody;
    });
  };
  EXPECT_TRUE(eventually([&] { return denied() >= 4; })) << read_text(d.audit_log());
  EXPECT_EQ(denied(), 4);
  expect_still_serves(d);
}

TEST_F(DaemonHostile, SignUidsLetNobodySignButNotAdminister) {
  if (::getuid() != 0) GTEST_FAIL() << "this test needs root to run a client as uid 65534";
  DaemonOptions options;
  options.sign_uids = "[65534]";
  DaemonFixture d(options);
  ASSERT_EQ(d.unlock().code, "OK");
  open_up_for_nobody(d);
  const std::string tuple = "kiel/i386/5.11";
  Reply r = reply_of(as_nobody(d.sign_socket(), sign_line(tuple, d.sha256_of(tuple))));
  ASSERT_EQ(r.code, "OK") << r.payload << "\n" << d.log();
  TempDir t;
  write_text(t / "catalog.asc", r.payload);
  RunResult v = d.catsign({"verify", "--cert", d.cert().string(), "--expect-catalog", tuple,
                           (t / "catalog.asc").string(), d.catalog(tuple).string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  // The audit record names nobody as the peer.
  bool found = false;
  std::istringstream log(read_text(d.audit_log()));
  for (std::string line; std::getline(log, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] == "sign" && j["result"] == "ok" && j["peer"]["uid"] == kNobody) found = true;
  }
  EXPECT_TRUE(found);

  r = reply_of(as_nobody(d.admin_socket(), "LOCK hostile\n"));
  EXPECT_EQ(r.code, "DENIED") << r.payload;
  EXPECT_NE(r.payload.find("uid 65534"), std::string::npos) << r.payload;
  r = reply_of(as_nobody(d.admin_socket(), "STATUS\n"));
  EXPECT_EQ(r.code, "DENIED") << r.payload;
  EXPECT_EQ(nlohmann::json::parse(d.status())["state"], "unlocked");
  expect_still_serves(d);
}

// ---------------------------------------------------------------- limits against a hostile peer

// The daemon's peak resident memory (VmHWM in /proc/PID/status), in KiB.
long long vm_hwm_kib(pid_t pid) {
  std::istringstream status(read_text("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  return -1;
}

// A sanitizer's allocator holds freed memory back (ASan's quarantine, 256 MiB by default).
#if defined(__SANITIZE_ADDRESS__)
constexpr long long kAllocatorSlackKib = 256 * 1024;
#else
constexpr long long kAllocatorSlackKib = 0;
#endif

// Whether `pid` has `file` open for reading (not only resolved with O_PATH).
bool has_open_for_reading(pid_t pid, const fs::path& file) {
  const std::string proc = "/proc/" + std::to_string(pid);
  std::error_code ec;
  for (auto it = fs::directory_iterator(proc + "/fd", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code link_ec;
    if (fs::read_symlink(it->path(), link_ec) != file || link_ec) continue;
    std::string info = read_text(proc + "/fdinfo/" + it->path().filename().string());
    std::size_t at = info.find("flags:");
    if (at == std::string::npos) continue;
    if ((std::stoul(info.substr(at + 6), nullptr, 8) & O_PATH) == 0) return true;
  }
  return false;
}

TEST_F(DaemonHostile, CatalogGrowingAfterTheOpenIsNeverReadPastItsCheckedSize) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  const std::string tuple = "kiel/i386/5.9";
  const fs::path path = d.catalog(tuple);
  fs::create_directories(path.parent_path());
  // Large, so that the daemon reads it for a while: the window for the switch.
  const std::string base = read_text(d.catalog("unstable/i386/5.10"));
  std::string text;
  while (text.size() < (32u << 20)) text += base;
  write_text(path, text);
  const fs::path real = fs::canonical(path);
  const std::string request = "SIGN " + tuple + " sha256=" + sha256_hex(text) + " mode=clearsign\n";
  constexpr off_t kSparse = off_t{2} << 30;  // what the daemon must never read, hash or hold
  const off_t real_size = static_cast<off_t>(text.size());
  TempDir t;
  int changed = 0;
  // Every answer is a good signature over the checked catalog or a refusal that says why.
  auto check = [&](const Reply& r) {
    if (r.code == "OK") {
      write_text(t / "catalog.signed", r.payload);
      RunResult v = d.catsign({"verify", "--cert", d.cert().string(), "--expect-catalog", tuple,
                               (t / "catalog.signed").string()});
      EXPECT_EQ(v.exit_code, 0) << v.err;
      EXPECT_LT(r.payload.size(), text.size() + text.size() / 8);
      return;
    }
    if (r.payload.find("grew while it was read") != std::string::npos ||
        r.payload.find("shrank while it was read") != std::string::npos) {
      ++changed;
      EXPECT_EQ(r.code, "DENIED") << r.payload;
      EXPECT_NE(r.payload.find("nothing was signed"), std::string::npos) << r.payload;
    } else {
      // Opened while it was 2 GiB: refused by the check at the open.
      EXPECT_EQ(r.code, "UNKNOWN_CATALOG") << r.payload.substr(0, 300);
      EXPECT_NE(r.payload.find("over the cap"), std::string::npos) << r.payload;
    }
  };

  // The file grows to a sparse 2 GiB as soon as the daemon has it open.
  for (int attempt = 0; attempt < 6; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    Client c(d.sign_socket());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send(request));
    auto give_up = Clock::now() + std::chrono::seconds(60);
    while (!has_open_for_reading(d.pid(), real) && !c.has_input() && Clock::now() < give_up)
      std::this_thread::sleep_for(milliseconds(1));
    ASSERT_EQ(::truncate(path.c_str(), kSparse), 0) << std::strerror(errno);
    Reply r = c.read_reply(120000);
    ASSERT_EQ(::truncate(path.c_str(), real_size), 0);
    check(r);
  }
  EXPECT_GE(changed, 1) << "the file never grew while the daemon read it";

  // Switched between its size and 2 GiB without pause while requests come.
  std::atomic<bool> stop{false};
  std::thread switcher([&] {
    for (int i = 0; !stop.load() && i < 100000; ++i) {
      (void)::truncate(path.c_str(), i % 2 == 0 ? kSparse : real_size);
      std::this_thread::sleep_for(milliseconds(2));
    }
  });
  for (int i = 0; i < 4; ++i) check(d.raw(request, false, 120));
  stop = true;
  switcher.join();
  ASSERT_EQ(::truncate(path.c_str(), real_size), 0);

  // Reading a 2 GiB file (old behaviour) takes the daemon past 2 GiB; 32 MiB signed in
  // clearsign mode takes it to a few times that.
  long long hwm = vm_hwm_kib(d.pid());
  EXPECT_GT(hwm, 0);
  EXPECT_LT(hwm, 1024 * 1024 + kAllocatorSlackKib) << "the daemon held more than 1 GiB (VmHWM " << hwm << " KiB)";
  expect_still_serves(d);
  d.stop();
  expect_audit_verifies(d);
}

TEST_F(DaemonHostile, PipelinedLinesAreServedWholeLineByWholeLine) {
  DaemonFixture& d = shared();
  const long long before = signatures_of(d);
  {
    // 300 PINGs, 1500 bytes in one write: 300 answers.
    Client c(d.sign_socket());
    ASSERT_TRUE(c.connected());
    std::string pings;
    for (int i = 0; i < 300; ++i) pings += "PING\n";
    ASSERT_TRUE(c.send(pings));
    for (int i = 0; i < 300; ++i) {
      Reply r = c.read_reply(10000);
      ASSERT_EQ(r.code, "OK") << "answer " << i << ": " << r.payload;
      ASSERT_EQ(r.payload, "PONG\n");
    }
  }
  {
    // 14 SIGN lines, more than 1 KiB in one write: 14 signatures, in order.
    Client c(d.sign_socket());
    ASSERT_TRUE(c.connected());
    std::string lines;
    std::vector<std::string> asked;
    for (int i = 0; i < 14; ++i) {
      asked.push_back(DaemonFixture::tuples()[static_cast<std::size_t>(i) % 4]);
      lines += sign_line(asked.back(), d.sha256_of(asked.back()));
    }
    ASSERT_GT(lines.size(), 1024u);
    ASSERT_TRUE(c.send(lines));
    TempDir t;
    for (std::size_t i = 0; i < asked.size(); ++i) {
      Reply r = c.read_reply(30000);
      ASSERT_EQ(r.code, "OK") << "answer " << i << ": " << r.payload;
      write_text(t / "catalog.asc", r.payload);
      RunResult v = d.catsign({"verify", "--cert", d.cert().string(), "--expect-catalog", asked[i],
                               (t / "catalog.asc").string(), d.catalog(asked[i]).string()});
      EXPECT_EQ(v.exit_code, 0) << "answer " << i << ": " << v.err;
    }
  }
  EXPECT_EQ(signatures_of(d), before + 14);
  {
    // The limit is per line: the good lines before an oversized one are answered, then the
    // oversized one is refused, audited, and the connection closed.
    Client c(d.sign_socket());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send("PING\nPING\nSIGN " + std::string(1100, 'x') + " sha256=" + kZeros + "\nPING\n"));
    EXPECT_EQ(c.read_reply(5000).code, "OK");
    EXPECT_EQ(c.read_reply(5000).code, "OK");
    Reply r = c.read_reply(5000);
    EXPECT_EQ(r.code, "BAD_REQUEST") << r.payload;
    EXPECT_NE(r.payload.find("longer than 1024"), std::string::npos) << r.payload;
    EXPECT_TRUE(c.closed_within(3000));
  }
  EXPECT_TRUE(eventually([&] {
    return audit_count(d, [](const nlohmann::json& j) {
             return j["event"] == "refuse" && j["code"] == "BAD_REQUEST" &&
                    j.value("message", "").find("longer than 1024") != std::string::npos;
           }) >= 1;
  })) << "the refusal of the oversized line was not audited";
  EXPECT_EQ(signatures_of(d), before + 14);
  expect_still_serves(d);
  expect_audit_verifies(d);
}

TEST_F(DaemonHostile, PingingConnectionsAreIdleAndTheAdminSocketHasItsOwnReserve) {
  DaemonOptions options;
  options.max_connections = 20;
  options.request_timeout = "5s";
  DaemonFixture d(options);
  ASSERT_EQ(d.unlock().code, "OK");
  std::this_thread::sleep_for(milliseconds(300));  // the fixture's own connections are gone
  // Every sign slot taken by a connection that only pings.
  std::vector<std::unique_ptr<Client>> pingers;
  for (int i = 0; i < 20; ++i) {
    pingers.push_back(std::make_unique<Client>(d.sign_socket()));
    ASSERT_TRUE(pingers.back()->connected()) << i;
    ASSERT_TRUE(pingers.back()->send("PING\n"));
    ASSERT_EQ(pingers.back()->read_reply(5000).code, "OK") << i;
  }
  EXPECT_EQ(d.raw("PING\n", false, 5).code, "BUSY");
  // The trusted person still gets in: catsign lock, then an unlock.
  RunResult lock = d.catsign({"lock", "--config", d.config().string(), "--reason", "sign-socket-full"});
  EXPECT_EQ(lock.exit_code, 0) << lock.err;
  EXPECT_EQ(nlohmann::json::parse(d.raw("STATUS\n", true, 5).payload)["state"], "locked");
  ASSERT_EQ(d.unlock().code, "OK");
  // Pinging keeps no connection: each is cut off at request_timeout however often it pings.
  std::vector<bool> cut(pingers.size(), false);
  std::size_t cut_count = 0;
  auto give_up = Clock::now() + std::chrono::seconds(60);
  while (cut_count < pingers.size() && Clock::now() < give_up) {
    for (std::size_t i = 0; i < pingers.size(); ++i) {
      if (cut[i]) continue;
      Reply r = pingers[i]->send("PING\n") ? pingers[i]->read_reply(5000) : Reply{"CLOSED", "", true};
      if (r.code == "OK") continue;
      EXPECT_TRUE(r.code == "CLOSED" || (r.code == "BAD_REQUEST" && r.payload.find("timed out") != std::string::npos))
          << i << ": " << r.code << " " << r.payload;
      cut[i] = true;
      ++cut_count;
    }
    std::this_thread::sleep_for(milliseconds(500));
  }
  EXPECT_EQ(cut_count, pingers.size()) << "connections that only ping were kept open";
  pingers.clear();
  EXPECT_TRUE(eventually([&] {
    return audit_count(d, [](const nlohmann::json& j) {
             return j["event"] == "refuse" && j.value("message", "").find("request timed out") != std::string::npos;
           }) >= 1;
  }));
  std::this_thread::sleep_for(milliseconds(300));  // let the daemon see the hangups
  expect_still_serves(d);
  expect_audit_verifies(d);
}

TEST_F(DaemonHostile, CatsignLockRetriesWhileTheAdminSocketIsFull) {
  DaemonOptions options;
  options.request_timeout = "60s";  // the held connections stay for the whole test
  DaemonFixture d(options);
  ASSERT_EQ(d.unlock().code, "OK");
  std::this_thread::sleep_for(milliseconds(300));  // the fixture's own connections are gone
  // Every admin connection held, each shown to be accepted.
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 16; ++i) {
    held.push_back(std::make_unique<Client>(d.admin_socket()));
    ASSERT_TRUE(held.back()->connected()) << i;
    ASSERT_TRUE(held.back()->send("STATUS\n"));
    ASSERT_EQ(held.back()->read_reply(5000).code, "OK") << i;
  }
  // catsign lock meets a full admin socket; once the daemon has turned it away, the
  // connections are let go, and its retry gets through.
  RunResult lock;
  std::thread locker([&] {
    lock = d.catsign({"lock", "--config", d.config().string(), "--reason", "token-removed"});
  });
  bool turned_away = eventually([&] { return d.log().find("the admin socket is full") != std::string::npos; }, 30000);
  held.clear();
  locker.join();
  ASSERT_TRUE(turned_away) << d.log();
  EXPECT_EQ(lock.exit_code, 0) << lock.err;
  EXPECT_EQ(nlohmann::json::parse(d.raw("STATUS\n", true, 5).payload)["state"], "locked");
  EXPECT_EQ(audit_count(d, [](const nlohmann::json& j) {
              return j["event"] == "lock" && j["reason"] == "token-removed" && j["was_unlocked"] == true;
            }),
            1);
  expect_audit_verifies(d);
}

TEST_F(DaemonHostile, ClientsThatNeverReadLargeRepliesHoldNoWorker) {
  DaemonOptions options;
  options.request_timeout = "60s";  // a held worker would hold up the next SIGN this long
  DaemonFixture d(options);
  ASSERT_EQ(d.unlock().code, "OK");
  // A catalog whose clearsigned copy is far more than a socket buffer takes.
  const std::string tuple = "kiel/i386/5.10";
  fs::create_directories(d.catalog(tuple).parent_path());
  const std::string base = read_text(d.catalog("unstable/i386/5.10"));
  std::string text;
  while (text.size() < (4u << 20)) text += base;
  write_text(d.catalog(tuple), text);
  const std::string request = "SIGN " + tuple + " sha256=" + sha256_hex(text) + " mode=clearsign\n";
  // More clients than workers (sessions + 2) ask, and never read their replies.
  std::vector<std::unique_ptr<Client>> sloths;
  for (int i = 0; i < 8; ++i) {
    sloths.push_back(std::make_unique<Client>(d.sign_socket()));
    ASSERT_TRUE(sloths.back()->connected());
    ASSERT_TRUE(sloths.back()->send(request));
  }
  // All are signed: the replies wait for their readers, the workers do not.
  EXPECT_TRUE(eventually([&] { return signatures_of(d) == 8; }, 60000)) << "signatures: " << signatures_of(d);
  auto t0 = Clock::now();
  Reply r = d.sign("unstable/i386/5.10");
  EXPECT_EQ(r.code, "OK") << r.payload;
  EXPECT_LT(ms_since(t0), 20000) << "a SIGN waited behind replies nobody read";
  // A reply waits whole for its reader.
  Reply late = sloths[3]->read_reply(30000);
  ASSERT_EQ(late.code, "OK") << late.payload.substr(0, 200);
  TempDir t;
  write_text(t / "catalog.signed", late.payload);
  RunResult v = d.catsign({"verify", "--cert", d.cert().string(), "--expect-catalog", tuple,
                           (t / "catalog.signed").string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  sloths.clear();
  std::this_thread::sleep_for(milliseconds(300));  // let the daemon see the hangups
  expect_still_serves(d);
  expect_audit_verifies(d);
}

// A connection that asks and never reads, seen from outside: whether the daemon has hung up,
// without reading a byte of the reply.
class NonReader {
 public:
  NonReader(const fs::path& socket, const std::string& request) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
  }
  ~NonReader() { ::close(fd_); }
  NonReader(const NonReader&) = delete;
  NonReader& operator=(const NonReader&) = delete;
  bool ok() const { return ok_; }
  bool hung_up_within(long long timeout_ms) const {
    pollfd p{fd_, 0, 0};  // no events asked for: only a hangup or an error wakes it
    return ::poll(&p, 1, static_cast<int>(timeout_ms)) > 0 && (p.revents & POLLHUP);
  }
  // Everything that arrived before the hangup.
  std::string drain() const {
    std::string got;
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) return got;
      got.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

// Writes a catalog of at least `size` bytes for `tuple` (its size in `actual`); returns the
// request for its clearsigned copy.
std::string large_catalog(const DaemonFixture& d, const std::string& tuple, std::size_t size,
                          std::size_t* actual = nullptr) {
  fs::create_directories(d.catalog(tuple).parent_path());
  const std::string base = read_text(d.catalog("unstable/i386/5.10"));
  std::string text;
  while (text.size() < size) text += base;
  write_text(d.catalog(tuple), text);
  if (actual) *actual = text.size();
  return "SIGN " + tuple + " sha256=" + sha256_hex(text) + " mode=clearsign\n";
}


TEST_F(DaemonHostile, AReaderThatNeverTakesItsReplyIsDroppedAtTheDeadline) {
  DaemonOptions options;
  options.request_timeout = "2s";
  DaemonFixture d(options);
  ASSERT_EQ(d.unlock().code, "OK");
  const std::string request = large_catalog(d, "kiel/i386/5.10", 4u << 20);
  NonReader sloth(d.sign_socket(), request);
  ASSERT_TRUE(sloth.ok());
  // Signed, then dropped with most of the reply still unsent: the daemon does not keep it.
  EXPECT_TRUE(sloth.hung_up_within(30000)) << "a connection that takes no reply was kept open";
  EXPECT_EQ(signatures_of(d), 1);
  EXPECT_LT(sloth.drain().size(), std::size_t{4} << 20);
  expect_still_serves(d);
  expect_audit_verifies(d);
}

TEST_F(DaemonHostile, UnreadRepliesPastTheMemoryBudgetMakeSigningWaitNotGrow) {
  DaemonOptions options;
  options.request_timeout = "60s";
  options.max_size = 8u << 20;  // the budget is then its floor, 64 MiB
  DaemonFixture d(options);
  ASSERT_EQ(d.unlock().code, "OK");
  std::size_t size = 0;
  const std::string request = large_catalog(d, "kiel/i386/5.10", 4u << 20, &size);
  const long long budget = 64ll << 20;
  const long long workers = 2;  // that sign: sessions + 1
  const long long before = vm_hwm_kib(d.pid());
  // 48 clearsigned copies of 4 MiB, about 200 MiB, that nobody reads.
  std::vector<std::unique_ptr<Client>> sloths;
  for (int i = 0; i < 48; ++i) {
    sloths.push_back(std::make_unique<Client>(d.sign_socket()));
    ASSERT_TRUE(sloths.back()->connected());
    ASSERT_TRUE(sloths.back()->send(request));
  }
  ASSERT_TRUE(eventually([&] { return d.log().find("new signing waits") != std::string::npos; }, 120000))
      << "signatures: " << signatures_of(d) << "\n" << d.log();
  // Nobody reads, so nothing drains: signing stopped once the unread replies (each less the
  // little a socket buffer takes) passed the budget, with the workers' last ones on top.
  const long long most = budget / (static_cast<long long>(size) - (1ll << 20)) + 1 + workers;
  EXPECT_LE(signatures_of(d), most);
  // The memory stays near the budget: far under 48 replies of 4 MiB.
  const long long hwm = vm_hwm_kib(d.pid());
  const long long bound_kib =
      (budget + workers * 4 * static_cast<long long>(size)) / 1024 + 48 * 1024 + kAllocatorSlackKib;
  EXPECT_LT(hwm - before, bound_kib) << "VmHWM " << before << " KiB before, " << hwm << " KiB after";
  // Readers catch up, each taking its reply as it comes: every request is answered, in full.
  TempDir t;
  std::vector<bool> answered(sloths.size(), false);
  std::size_t count = 0;
  auto give_up = Clock::now() + std::chrono::seconds(120);
  while (count < sloths.size() && Clock::now() < give_up) {
    bool progress = false;
    for (std::size_t i = 0; i < sloths.size(); ++i) {
      if (answered[i] || !sloths[i]->has_input()) continue;
      Reply r = sloths[i]->read_reply(60000);
      ASSERT_EQ(r.code, "OK") << i << ": " << r.payload.substr(0, 200);
      if (count % 16 == 0) {
        write_text(t / "catalog.signed", r.payload);
        RunResult v = d.catsign({"verify", "--cert", d.cert().string(), "--expect-catalog", "kiel/i386/5.10",
                                 (t / "catalog.signed").string()});
        EXPECT_EQ(v.exit_code, 0) << v.err;
      }
      answered[i] = true;
      ++count;
      progress = true;
    }
    if (!progress) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(count, sloths.size());
  EXPECT_EQ(signatures_of(d), 48);
  sloths.clear();
  std::this_thread::sleep_for(milliseconds(300));  // let the daemon see the hangups
  expect_still_serves(d);
  expect_audit_verifies(d);
}

std::string name_of(int sig) {
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) return "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
  return std::string("SIG") + ::sigabbrev_np(sig);
}

TEST_F(DaemonHostile, SignalsItDoesNotStopOnAreLoggedAndIgnored) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  for (int sig : {SIGUSR1, SIGUSR2, SIGHUP, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGXCPU, SIGXFSZ,
                  SIGRTMIN + 3}) {
    const std::string name = name_of(sig);
    SCOPED_TRACE(name);
    ASSERT_EQ(::kill(d.pid(), sig), 0);
    const std::string said = name + " from pid " + std::to_string(::getpid());
    EXPECT_TRUE(eventually([&] { return d.log().find(said) != std::string::npos; })) << d.log();
    ASSERT_TRUE(d.running()) << d.log();
  }
  // SIGHUP reloads (the unchanged configuration) and says so; the unlock stays.
  EXPECT_TRUE(eventually([&] { return d.log().find("configuration reloaded from") != std::string::npos; })) << d.log();
  EXPECT_EQ(nlohmann::json::parse(d.status())["state"], "unlocked");
  expect_still_serves(d);
}

TEST_F(DaemonHostile, SigtermAndSigintStopCleanlyAndRemoveTheSocketFiles) {
  DaemonFixture d;
  for (int sig : {SIGTERM, SIGINT}) {
    const std::string name = name_of(sig);
    SCOPED_TRACE(name);
    ASSERT_EQ(d.unlock().code, "OK");
    ASSERT_TRUE(fs::exists(fs::symlink_status(d.sign_socket())));
    int status = d.signal_and_wait(sig);
    ASSERT_NE(status, -1) << "still running after " << name << ":\n" << d.log();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status << "\n" << d.log();
    EXPECT_FALSE(fs::exists(fs::symlink_status(d.sign_socket())));
    EXPECT_FALSE(fs::exists(fs::symlink_status(d.admin_socket())));
    EXPECT_NE(d.log().find(name + " from pid " + std::to_string(::getpid()) + ": stopping"), std::string::npos);
    // The stop is in the audit log: the key was locked, saying why, then the stop itself.
    std::vector<nlohmann::json> records = audit_records(d);
    ASSERT_GE(records.size(), 2u);
    const nlohmann::json& lock = records[records.size() - 2];
    EXPECT_EQ(lock["event"], "lock");
    EXPECT_EQ(lock["reason"], "daemon stopping on " + name);
    EXPECT_EQ(lock["was_unlocked"], true);
    EXPECT_EQ(records.back()["event"], "stop");
    EXPECT_EQ(records.back()["reason"], "daemon stopping on " + name);
    expect_audit_verifies(d);
    d.start();
  }
  ASSERT_EQ(d.unlock().code, "OK");
  expect_still_serves(d);
}

TEST_F(DaemonHostile, AFatalSignalIsNamedAndTheNextStartReplacesTheStaleSockets) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  int status = d.signal_and_wait(SIGSEGV);
  ASSERT_NE(status, -1) << d.log();
  EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_NE(d.log().find("SIGSEGV: catsignd ends here"), std::string::npos) << d.log();
  // No daemon behind the socket files any more: the next start replaces them.
  EXPECT_TRUE(fs::exists(fs::symlink_status(d.sign_socket())));
  d.start();
  ASSERT_EQ(d.unlock().code, "OK");
  expect_still_serves(d);
  expect_audit_verifies(d);
}

TEST_F(DaemonHostile, SecondDaemonOnTheSameSocketsRefusesToStartAndNamesThePid) {
  DaemonFixture d;
  ASSERT_EQ(d.unlock().code, "OK");
  // The same sockets, another audit log (so the log's own lock does not stop it first).
  std::string text = read_text(d.config());
  const std::string from = "log = \"state/audit.jsonl\"";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), "log = \"state/second-audit.jsonl\"");
  write_text(d.dir() / "second.toml", text);
  RunResult second = run({"timeout", "60", CATSIGND_BINARY, "--config", (d.dir() / "second.toml").string()}, "",
                         {{"SOFTHSM2_CONF", d.softhsm_conf()}});
  EXPECT_EQ(second.exit_code, 2) << second.err;
  EXPECT_NE(second.err.find("catsignd (pid " + std::to_string(d.pid()) + ") already answers there"),
            std::string::npos) << second.err;
  EXPECT_NE(second.err.find(d.sign_socket().string()), std::string::npos) << second.err;
  // The first still has both sockets: it answers, and the trusted person can lock it.
  ASSERT_TRUE(d.running());
  EXPECT_EQ(nlohmann::json::parse(d.raw("STATUS\n", true, 5).payload)["state"], "unlocked");
  expect_still_serves(d);
  EXPECT_EQ(d.lock("second-daemon-test").code, "OK");
  EXPECT_EQ(nlohmann::json::parse(d.raw("STATUS\n", true, 5).payload)["state"], "locked");
  expect_audit_verifies(d);
  // A socket left by a daemon that is gone is still replaced.
  int killed = d.signal_and_wait(SIGKILL);
  ASSERT_TRUE(killed != -1 && WIFSIGNALED(killed) && WTERMSIG(killed) == SIGKILL) << killed;
  ASSERT_TRUE(fs::exists(fs::symlink_status(d.sign_socket())));
  d.start();
  ASSERT_EQ(d.unlock().code, "OK");
  expect_still_serves(d);
  expect_audit_verifies(d);
}

// ---------------------------------------------------------------- load

struct Job {
  std::string tuple;
  std::string options;  // "", "armor=no", "mode=clearsign"
  Reply reply;
};

TEST(DaemonLoad, FortyEightConcurrentSignaturesVerifyAndAreAudited) {
  DaemonOptions options;
  options.sessions = 2;
  DaemonFixture d(options);
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  std::vector<std::string> tuples = DaemonFixture::tuples();
  tuples.push_back("testing/sparc/5.9");  // through the in-tree symlink
  const std::vector<std::string> forms = {"", "armor=no", "mode=clearsign", "mode=detached armor=yes"};
  std::vector<Job> jobs(48);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].tuple = tuples[i % tuples.size()];
    jobs[i].options = forms[(i / tuples.size() + i) % forms.size()];
  }
  std::latch go(static_cast<std::ptrdiff_t>(jobs.size()));
  std::vector<std::thread> threads;
  auto t0 = Clock::now();
  for (Job& job : jobs) {
    threads.emplace_back([&d, &go, &job] {
      go.arrive_and_wait();
      job.reply = d.sign(job.tuple, job.options);
    });
  }
  for (std::thread& t : threads) t.join();
  long long took = ms_since(t0);
  RecordProperty("elapsed_ms", std::to_string(took));

  // RSA PKCS#1 v1.5 is deterministic and creation times have one-second resolution, so two
  // requests for the same tuple and form in the same second get the same bytes: keep a list.
  std::map<std::string, std::vector<std::size_t>> by_signature_sha;
  TempDir t;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const Job& job = jobs[i];
    SCOPED_TRACE("request " + std::to_string(i) + ": " + job.tuple + " " + job.options);
    ASSERT_EQ(job.reply.code, "OK") << job.reply.payload << "\n" << d.log();
    by_signature_sha[sha256_hex(job.reply.payload)].push_back(i);
    bool clearsign = job.options == "mode=clearsign";
    fs::path sig = t / ("sig-" + std::to_string(i) + (clearsign ? ".signed" : job.options == "armor=no" ? ".sig" : ".asc"));
    write_text(sig, job.reply.payload);
    std::vector<std::string> args = {"verify", "--cert", d.cert().string(), "--expect-catalog", job.tuple,
                                     "--max-age", "1h", sig.string()};
    if (!clearsign) args.push_back(d.catalog(job.tuple).string());
    RunResult v = d.catsign(args);
    EXPECT_EQ(v.exit_code, 0) << v.err;
    if (clearsign) {
      EXPECT_NE(job.reply.payload.find(read_text(d.catalog(job.tuple)).substr(0, 40)), std::string::npos);
    }
  }
  EXPECT_EQ(nlohmann::json::parse(d.status())["signatures"], 48);

  // One "sign" record per request, each complete and matching its reply.
  std::vector<std::string> lines;
  {
    std::istringstream log(read_text(d.audit_log()));
    for (std::string line; std::getline(log, line);) lines.push_back(line);
  }
  std::set<std::size_t> matched;
  int signs = 0;
  std::size_t first_sign_line = 0;
  for (std::size_t n = 0; n < lines.size(); ++n) {
    auto j = nlohmann::json::parse(lines[n]);
    if (j["event"] != "sign") continue;
    if (first_sign_line == 0) first_sign_line = n + 1;
    ++signs;
    SCOPED_TRACE("audit line " + std::to_string(n + 1) + ": " + lines[n]);
    EXPECT_EQ(j["result"], "ok");
    ASSERT_TRUE(j.contains("signature_sha256"));
    ASSERT_TRUE(j.contains("file_sha256"));
    auto it = by_signature_sha.find(j["signature_sha256"].get<std::string>());
    ASSERT_NE(it, by_signature_sha.end()) << "an audited signature nobody received";
    ASSERT_FALSE(it->second.empty()) << "more records of this signature than replies carrying it";
    const std::size_t index = it->second.back();
    it->second.pop_back();
    matched.insert(index);
    const Job& job = jobs[index];
    EXPECT_EQ(j["tuple"], job.tuple);
    EXPECT_EQ(j["file_sha256"], d.sha256_of(job.tuple));
    EXPECT_EQ(j["requested_sha256"], d.sha256_of(job.tuple));
    EXPECT_EQ(j["form"], job.options == "mode=clearsign" ? "clearsign" : job.options == "armor=no" ? "binary" : "armored");
    EXPECT_EQ(j["peer"]["uid"], ::getuid());
    EXPECT_EQ(j["peer"]["pid"], ::getpid());
  }
  EXPECT_EQ(signs, 48);
  EXPECT_EQ(matched.size(), jobs.size());

  RunResult ok = d.catsign({"audit", "verify", d.audit_log().string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  // One byte changed inside a record that still parses: named by the line after it, whose
  // "prev" no longer matches.
  ASSERT_GT(lines.size(), first_sign_line + 10);
  // 1-based; a sign record with records after it ("signing" records come between them).
  std::size_t k = first_sign_line + 5;
  while (k < lines.size() && lines[k - 1].find("\"signature_sha256\":\"") == std::string::npos) ++k;
  ASSERT_LT(k, lines.size());
  auto edited_copy = [&](const std::string& name, auto edit) {
    std::vector<std::string> copy = lines;
    edit(copy[k - 1]);
    std::string text;
    for (const auto& l : copy) text += l + "\n";
    fs::path p = t / name;
    write_text(p, text);
    return p;
  };
  fs::path tampered = edited_copy("tampered.jsonl", [](std::string& line) {
    std::size_t at = line.find("\"signature_sha256\":\"");
    ASSERT_NE(at, std::string::npos);
    char& c = line[at + 20];
    c = c == '0' ? '1' : '0';
  });
  RunResult bad = d.catsign({"audit", "verify", tampered.string()});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.err.find("broken at line " + std::to_string(k + 1) + ":"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("SHA-256 of line " + std::to_string(k) + " "), std::string::npos) << bad.err;

  // One byte that breaks the record's JSON: named at that very line.
  fs::path broken = edited_copy("broken.jsonl", [](std::string& line) { line[0] = 'X'; });
  bad = d.catsign({"audit", "verify", broken.string()});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.err.find("broken at line " + std::to_string(k) + ":"), std::string::npos) << bad.err;

  expect_still_serves(d);
}

}  // namespace
}  // namespace catsign::testing
