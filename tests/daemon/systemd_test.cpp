// SPDX-License-Identifier: Apache-2.0
// Socket activation and readiness notification, against a fake systemd: the tests set
// LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES and NOTIFY_SOCKET the way systemd does. Each scenario
// runs in a forked child, since LISTEN_PID must be the caller's pid, the descriptors must sit
// at 3 and 4, and the environment must not leak into other tests.
#include "catsign/daemon/systemd.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "../support/process.hpp"
#include "catsign/config.hpp"
#include "catsign/daemon/log.hpp"
#include "catsign/error.hpp"
#include "catsign/util/duration.hpp"

namespace catsign::daemon {
namespace {

using catsign::testing::TempDir;
using catsign::testing::read_text;

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  return a;
}

// A Unix socket of `type` bound to `path` and moved to descriptor `target`; listening when asked.
// Returns false (with a message on stderr) on any failure. Runs in the child.
bool make_socket_at(int target, const std::string& path, int type, bool listening) {
  int fd = ::socket(AF_UNIX, type, 0);
  if (fd < 0) return false;
  sockaddr_un a = unix_address(path);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
  if (listening && ::listen(fd, 4) != 0) return false;
  if (fd != target) {
    if (::dup2(fd, target) < 0) return false;
    ::close(fd);
  }
  return true;
}

// Runs `body` in a forked child and returns its exit code; the child reports failures on
// stderr (which gtest shows) and exits non-zero.
int in_child(const std::function<int()>& body) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int rc = 99;
    try {
      rc = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: unexpected exception: %s\n", e.what());
    }
    std::fflush(nullptr);
    ::_exit(rc);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define CHILD_CHECK(cond)                                                     \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "child: check failed at line %d: %s\n", __LINE__, #cond); \
      return 1;                                                               \
    }                                                                         \
  } while (0)

void fake_activation(int n, const char* names) {
  ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
  ::setenv("LISTEN_FDS", std::to_string(n).c_str(), 1);
  if (names)
    ::setenv("LISTEN_FDNAMES", names, 1);
  else
    ::unsetenv("LISTEN_FDNAMES");
}

// Expects sockets_from_systemd() to refuse with Errc::usage and a message containing `want`.
int expect_refused(const std::string& want) {
  try {
    ActivatedSockets s = sockets_from_systemd();
    std::fprintf(stderr, "child: accepted sign=%d admin=%d\n", s.sign, s.admin);
    return 1;
  } catch (const Error& e) {
    CHILD_CHECK(e.code() == Errc::usage);
    if (std::string(e.what()).find(want) == std::string::npos) {
      std::fprintf(stderr, "child: message '%s' lacks '%s'\n", e.what(), want.c_str());
      return 1;
    }
  }
  return 0;
}

TEST(Systemd, WithoutActivationEverythingIsMinusOneAndNotifyIsANoOp) {
  EXPECT_EQ(in_child([] {
              ::unsetenv("LISTEN_PID");
              ::unsetenv("LISTEN_FDS");
              ::unsetenv("LISTEN_FDNAMES");
              ::unsetenv("NOTIFY_SOCKET");
              ActivatedSockets s = sockets_from_systemd();
              CHILD_CHECK(s.sign == -1);
              CHILD_CHECK(s.admin == -1);
              notify_ready("listening");
              notify_status("locked");
              notify_stopping();
              return 0;
            }),
            0);
}

TEST(Systemd, ActivationForAnotherProcessIsIgnored) {
  // LISTEN_PID names someone else (the variables were inherited): the fds are not ours.
  TempDir dir;
  EXPECT_EQ(in_child([&] {
              CHILD_CHECK(make_socket_at(3, (dir / "sign.sock").string(), SOCK_STREAM, true));
              fake_activation(1, "sign");
              ::setenv("LISTEN_PID", std::to_string(::getppid()).c_str(), 1);
              ActivatedSockets s = sockets_from_systemd();
              CHILD_CHECK(s.sign == -1);
              CHILD_CHECK(s.admin == -1);
              return 0;
            }),
            0);
}

TEST(Systemd, NamedSocketsComeBackInEitherOrder) {
  TempDir dir;
  for (const char* names : {"sign:admin", "admin:sign"}) {
    SCOPED_TRACE(names);
    EXPECT_EQ(in_child([&] {
                CHILD_CHECK(make_socket_at(3, (dir / "a.sock").string(), SOCK_STREAM, true));
                CHILD_CHECK(make_socket_at(4, (dir / "b.sock").string(), SOCK_STREAM, true));
                fake_activation(2, names);
                ActivatedSockets s = sockets_from_systemd();
                bool sign_first = std::string(names) == "sign:admin";
                CHILD_CHECK(s.sign == (sign_first ? 3 : 4));
                CHILD_CHECK(s.admin == (sign_first ? 4 : 3));
                // The variables are consumed: nothing the daemon starts inherits them.
                CHILD_CHECK(std::getenv("LISTEN_FDS") == nullptr);
                CHILD_CHECK(std::getenv("LISTEN_PID") == nullptr);
                return 0;
              }),
              0);
    ::unlink((dir / "a.sock").c_str());
    ::unlink((dir / "b.sock").c_str());
  }
}

TEST(Systemd, OnlyTheSignSocketIsFine) {
  TempDir dir;
  EXPECT_EQ(in_child([&] {
              CHILD_CHECK(make_socket_at(3, (dir / "sign.sock").string(), SOCK_STREAM, true));
              fake_activation(1, "sign");
              ActivatedSockets s = sockets_from_systemd();
              CHILD_CHECK(s.sign == 3);
              CHILD_CHECK(s.admin == -1);
              return 0;
            }),
            0);
}

TEST(Systemd, UnknownNameIsRefused) {
  TempDir dir;
  EXPECT_EQ(in_child([&] {
              CHILD_CHECK(make_socket_at(3, (dir / "a.sock").string(), SOCK_STREAM, true));
              CHILD_CHECK(make_socket_at(4, (dir / "b.sock").string(), SOCK_STREAM, true));
              fake_activation(2, "sign:metrics");
              int rc = expect_refused("'metrics'");
              // Refused descriptors are closed, not left open behind the caller's back.
              CHILD_CHECK(::fcntl(3, F_GETFD) == -1);
              CHILD_CHECK(::fcntl(4, F_GETFD) == -1);
              return rc;
            }),
            0);
}

TEST(Systemd, MissingNamesAreRefused) {
  // No FileDescriptorName=: libsystemd calls every socket "unknown".
  TempDir dir;
  EXPECT_EQ(in_child([&] {
              CHILD_CHECK(make_socket_at(3, (dir / "a.sock").string(), SOCK_STREAM, true));
              fake_activation(1, nullptr);
              return expect_refused("FileDescriptorName=sign");
            }),
            0);
}

TEST(Systemd, DuplicateNameIsRefused) {
  TempDir dir;
  EXPECT_EQ(in_child([&] {
              CHILD_CHECK(make_socket_at(3, (dir / "a.sock").string(), SOCK_STREAM, true));
              CHILD_CHECK(make_socket_at(4, (dir / "b.sock").string(), SOCK_STREAM, true));
              fake_activation(2, "sign:sign");
              return expect_refused("two sockets named 'sign'");
            }),
            0);
}

TEST(Systemd, NonListeningSocketIsRefused) {
  TempDir dir;
  EXPECT_EQ(in_child([&] {
              CHILD_CHECK(make_socket_at(3, (dir / "a.sock").string(), SOCK_STREAM, true));
              CHILD_CHECK(make_socket_at(4, (dir / "b.sock").string(), SOCK_STREAM, false));
              fake_activation(2, "sign:admin");
              return expect_refused("'admin' socket is not a listening Unix stream socket");
            }),
            0);
}

TEST(Systemd, DatagramSocketIsRefused) {
  TempDir dir;
  EXPECT_EQ(in_child([&] {
              CHILD_CHECK(make_socket_at(3, (dir / "a.sock").string(), SOCK_DGRAM, false));
              fake_activation(1, "sign");
              return expect_refused("'sign' socket is not a listening Unix stream socket");
            }),
            0);
}

TEST(Systemd, TcpSocketIsRefused) {
  EXPECT_EQ(in_child([&] {
              int fd = ::socket(AF_INET, SOCK_STREAM, 0);
              CHILD_CHECK(fd >= 0);
              sockaddr_in a{};
              a.sin_family = AF_INET;
              a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
              CHILD_CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
              CHILD_CHECK(::listen(fd, 4) == 0);
              if (fd != 3) {
                CHILD_CHECK(::dup2(fd, 3) == 3);
                ::close(fd);
              }
              fake_activation(1, "sign");
              return expect_refused("not a listening Unix stream socket");
            }),
            0);
}

// A listening TCP socket on loopback moved to descriptor `target`.
bool make_tcp_at(int target) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0) return false;
  if (fd != target) {
    if (::dup2(fd, target) < 0) return false;
    ::close(fd);
  }
  return true;
}

TEST(Systemd, HttpListenersAreTakenAsTcpSockets) {
  // catsignd-http.socket: any number of ListenStream= lines, all FileDescriptorName=http,
  // next to the two Unix sockets.
  TempDir dir;
  EXPECT_EQ(in_child([&] {
              CHILD_CHECK(make_socket_at(3, (dir / "a.sock").string(), SOCK_STREAM, true));
              CHILD_CHECK(make_tcp_at(4));
              CHILD_CHECK(make_tcp_at(5));
              fake_activation(3, "sign:http:http");
              ActivatedSockets s = sockets_from_systemd();
              CHILD_CHECK(s.sign == 3);
              CHILD_CHECK(s.http == (std::vector<int>{4, 5}));
              return 0;
            }),
            0);
}

TEST(Systemd, UnixSocketNamedHttpIsRefused) {
  TempDir dir;
  EXPECT_EQ(in_child([&] {
              CHILD_CHECK(make_socket_at(3, (dir / "a.sock").string(), SOCK_STREAM, true));
              fake_activation(1, "http");
              return expect_refused("'http' socket is not a listening TCP socket");
            }),
            0);
}

// A datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a = unix_address(path);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{2, 0};
    if (ok_) ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }
  // The next datagram, or "<none>" after the timeout.
  std::string receive(int timeout_ms = 2000) {
    std::vector<char> buf(4096);
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return "<none>";
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
    return n < 0 ? std::string("<none>") : std::string(buf.data(), static_cast<std::size_t>(n));
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool ok_ = false;
};

TEST(Systemd, NotifySendsReadyStatusAndStopping) {
  TempDir dir;
  NotifySocket sock((dir / "notify").string());
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(in_child([&] {
              ::setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
              notify_ready("locked; run catsign unlock");
              notify_status("unlocked, 6d 23h left");
              // The variable stays: later status updates must still reach systemd.
              CHILD_CHECK(std::getenv("NOTIFY_SOCKET") != nullptr);
              notify_stopping();
              return 0;
            }),
            0);
  EXPECT_EQ(sock.receive(), "READY=1\nSTATUS=locked; run catsign unlock");
  EXPECT_EQ(sock.receive(), "STATUS=unlocked, 6d 23h left");
  EXPECT_EQ(sock.receive(), "STOPPING=1");
}

TEST(Systemd, StatusCannotSmuggleAnotherAssignment) {
  TempDir dir;
  NotifySocket sock((dir / "notify").string());
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(in_child([&] {
              ::setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
              notify_status("locked\nSTOPPING=1\r\nERRNO=5");
              return 0;
            }),
            0);
  EXPECT_EQ(sock.receive(), "STATUS=locked STOPPING=1  ERRNO=5");
}

TEST(Systemd, WatchdogIsOffUnlessSystemdAsksForIt) {
  TempDir dir;
  NotifySocket sock((dir / "notify").string());
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(in_child([&] {
              ::setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
              ::unsetenv("WATCHDOG_USEC");
              ::unsetenv("WATCHDOG_PID");
              Watchdog none;
              CHILD_CHECK(!none.enabled());
              none.kick();
              // Asked of another process (inherited variables): not ours to keep alive.
              ::setenv("WATCHDOG_USEC", "3000000", 1);
              ::setenv("WATCHDOG_PID", std::to_string(::getppid()).c_str(), 1);
              Watchdog other;
              CHILD_CHECK(!other.enabled());
              other.kick();
              notify_status("marker");
              return 0;
            }),
            0);
  EXPECT_EQ(sock.receive(), "STATUS=marker");  // and no WATCHDOG=1 before it
}

TEST(Systemd, WatchdogKicksAtMostThreeTimesAnInterval) {
  TempDir dir;
  NotifySocket sock((dir / "notify").string());
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(in_child([&] {
              ::setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
              ::setenv("WATCHDOG_USEC", "3000000", 1);
              ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
              Watchdog w;
              CHILD_CHECK(w.enabled());
              CHILD_CHECK(w.interval() == std::chrono::seconds(3));
              // Nothing the daemon starts (an expiry command) inherits the request.
              CHILD_CHECK(std::getenv("WATCHDOG_USEC") == nullptr);
              CHILD_CHECK(std::getenv("WATCHDOG_PID") == nullptr);
              Watchdog::Clock::time_point t0{};
              w.kick(t0 + std::chrono::seconds(10));                                 // sent
              w.kick(t0 + std::chrono::seconds(10) + std::chrono::milliseconds(500)); // too soon
              w.kick(t0 + std::chrono::seconds(11));                                 // a third: sent
              notify_status("marker");
              return 0;
            }),
            0);
  EXPECT_EQ(sock.receive(), "WATCHDOG=1");
  EXPECT_EQ(sock.receive(), "WATCHDOG=1");
  EXPECT_EQ(sock.receive(), "STATUS=marker");
}

// In a child whose stderr is a file: JOURNAL_STREAM set to `stream` (a format with %llu for
// the file's device and inode), four lines logged at four levels. Returns the file.
std::string log_lines_with_journal_stream(const TempDir& dir, const std::function<std::string(struct stat)>& stream) {
  std::string path = (dir / "stderr").string();
  int rc = in_child([&] {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHILD_CHECK(fd >= 0);
    CHILD_CHECK(::dup2(fd, 2) == 2);
    struct stat st {};
    CHILD_CHECK(::fstat(2, &st) == 0);
    ::setenv("JOURNAL_STREAM", stream(st).c_str(), 1);
    auto logger = make_daemon_logger("journal-test");
    logger->set_level(spdlog::level::debug);
    logger->error("an error");
    logger->warn("a warning");
    logger->info("some news");
    logger->debug("a detail");
    logger->flush();
    return 0;
  });
  EXPECT_EQ(rc, 0);
  return read_text(path);
}

TEST(Journal, PriorityPrefixesWhenJournalStreamNamesStderr) {
  TempDir dir;
  std::string lines = log_lines_with_journal_stream(dir, [](struct stat st) {
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  });
  EXPECT_EQ(lines, "<3>an error\n<4>a warning\n<6>some news\n<7>a detail\n");
}

TEST(Journal, PlainLinesWhenJournalStreamNamesSomethingElse) {
  TempDir dir;
  // Inherited from a parent whose stderr was the journal, but this stderr was redirected.
  for (auto stream : std::vector<std::function<std::string(struct stat)>>{
           [](struct stat st) { return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1); },
           [](struct stat st) { return std::to_string(st.st_dev + 1) + ":" + std::to_string(st.st_ino); },
           [](struct stat st) { return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + "x"; },
           [](struct stat) { return std::string("journal"); },
           [](struct stat) { return std::string(""); }}) {
    std::string lines = log_lines_with_journal_stream(dir, stream);
    EXPECT_EQ(lines, "error: an error\nwarning: a warning\ninfo: some news\ndebug: a detail\n");
  }
}

TEST(Journal, SyslogPriorities) {
  EXPECT_EQ(syslog_priority(spdlog::level::critical), 2);
  EXPECT_EQ(syslog_priority(spdlog::level::err), 3);
  EXPECT_EQ(syslog_priority(spdlog::level::warn), 4);
  EXPECT_EQ(syslog_priority(spdlog::level::info), 6);
  EXPECT_EQ(syslog_priority(spdlog::level::debug), 7);
  EXPECT_EQ(syslog_priority(spdlog::level::trace), 7);
}

TEST(Systemd, UnreachableNotifySocketIsNotFatal) {
  TempDir dir;
  EXPECT_EQ(in_child([&] {
              ::setenv("NOTIFY_SOCKET", (dir / "nobody-listens").c_str(), 1);
              notify_ready("listening");
              notify_status("locked");
              notify_stopping();
              return 0;
            }),
            0);
}

}  // namespace
}  // namespace catsign::daemon

// --- packaging/: the units, the example config and each other ------------------------------

namespace catsign::daemon {
namespace {

using catsign::testing::run;
using catsign::testing::RunResult;

const std::filesystem::path kPackaging = std::filesystem::path(CATSIGN_SOURCE_DIR) / "packaging";

// Values of `key=` in a unit file, in order (no sections, no continuation lines: ours have none).
std::vector<std::string> unit_values(const std::string& unit, const std::string& key) {
  std::vector<std::string> out;
  std::istringstream in(read_text(kPackaging / unit));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + "=", 0) == 0) out.push_back(line.substr(key.size() + 1));
  return out;
}

std::string unit_value(const std::string& unit, const std::string& key) {
  std::vector<std::string> v = unit_values(unit, key);
  EXPECT_EQ(v.size(), 1u) << unit << " " << key;
  return v.empty() ? "" : v.front();
}

TEST(Packaging, ExampleConfigParses) {
  Config c = load_config(kPackaging / "catsign.toml.example");
  EXPECT_EQ(c.keys.size(), 2u);
  EXPECT_EQ(c.key(std::nullopt).name, "catalog");
  // The udev rule runs `catsign lock` as root: the daemon must accept uid 0 on the admin socket.
  EXPECT_NE(std::find(c.daemon.admin_uids.begin(), c.daemon.admin_uids.end(), 0u), c.daemon.admin_uids.end());
}

TEST(Packaging, UnitsAgreeWithTheExampleConfig) {
  Config c = load_config(kPackaging / "catsign.toml.example");
  EXPECT_EQ(unit_value("catsignd-sign.socket", "ListenStream"), c.daemon.socket.string());
  EXPECT_EQ(unit_value("catsignd-admin.socket", "ListenStream"), c.daemon.admin_socket.string());
  // The names sockets_from_systemd() looks for.
  EXPECT_EQ(unit_value("catsignd-sign.socket", "FileDescriptorName"), "sign");
  EXPECT_EQ(unit_value("catsignd-admin.socket", "FileDescriptorName"), "admin");
  EXPECT_EQ(unit_value("catsignd-sign.socket", "Service"), "catsignd.service");
  EXPECT_EQ(unit_value("catsignd-admin.socket", "Service"), "catsignd.service");
  // Different groups: that is why they are two units.
  EXPECT_NE(unit_value("catsignd-sign.socket", "SocketGroup"), unit_value("catsignd-admin.socket", "SocketGroup"));

  EXPECT_EQ(unit_value("catsignd.service", "Type"), "notify");
  // The event loop kicks the watchdog about once a second: the interval must leave it room.
  EXPECT_GE(parse_duration(unit_value("catsignd.service", "WatchdogSec")), std::chrono::seconds(3));
  EXPECT_EQ(unit_value("catsignd.service", "ExecStart"), "/usr/sbin/catsignd --config /etc/catsign/catsign.toml");
  EXPECT_EQ(unit_value("catsignd.service", "ReadOnlyPaths"), c.catalogs.root.string());
  EXPECT_EQ(unit_value("catsignd.service", "ReadWritePaths"), "-" + c.spool_dir.string());
  EXPECT_EQ("/var/lib/" + unit_value("catsignd.service", "StateDirectory"), c.audit_log.parent_path().string());
  EXPECT_EQ(unit_value("catsignd.service", "RestrictAddressFamilies"), "AF_UNIX");
  EXPECT_EQ(unit_value("catsignd.service", "LimitCORE"), "0");
  EXPECT_EQ(unit_value("catsignd.service", "CapabilityBoundingSet"), "");
  // No RuntimeDirectory=: it would chmod /run/catsign to 0750 and delete the sockets on stop.
  EXPECT_TRUE(unit_values("catsignd.service", "RuntimeDirectory").empty());

  // The groups the units and tmpfiles.d use are the ones sysusers.d creates.
  std::string sysusers = read_text(kPackaging / "sysusers.d/catsign.conf");
  for (const std::string& g : {unit_value("catsignd-sign.socket", "SocketGroup"),
                               unit_value("catsignd-admin.socket", "SocketGroup")})
    EXPECT_NE(sysusers.find("\ng     " + g + " "), std::string::npos) << g;
  // A "u" line also makes the user's own group.
  EXPECT_EQ(unit_value("catsignd.service", "User"), "catsign");
  EXPECT_EQ(unit_value("catsignd.service", "Group"), "catsign");
  EXPECT_NE(sysusers.find("\nu     catsign "), std::string::npos);
  EXPECT_NE(read_text(kPackaging / "tmpfiles.d/catsign.conf").find("d     " + c.spool_dir.string() + " "),
            std::string::npos);
}

TEST(Packaging, HttpSocketAndTheServiceFilterAddresses) {
  EXPECT_EQ(unit_value("catsignd-http.socket", "FileDescriptorName"), "http");
  EXPECT_EQ(unit_value("catsignd-http.socket", "Service"), "catsignd.service");
  EXPECT_FALSE(unit_values("catsignd-http.socket", "ListenStream").empty());
  // Everything is denied unless an IPAddressAllow= line lets it in, in both units.
  for (const char* unit : {"catsignd-http.socket", "catsignd.service"}) {
    EXPECT_EQ(unit_value(unit, "IPAddressDeny"), "any") << unit;
    EXPECT_FALSE(unit_values(unit, "IPAddressAllow").empty()) << unit;
  }
  // The listeners are passed in: the service itself keeps no network of its own.
  EXPECT_EQ(unit_value("catsignd.service", "PrivateNetwork"), "yes");
}

TEST(Packaging, SystemdAnalyzeVerifyAcceptsTheUnits) {
  if (run({"sh", "-c", "command -v systemd-analyze"}).exit_code != 0) GTEST_FAIL() << "no systemd-analyze";
  // verify insists that ExecStart= names an executable: point it at a binary that exists.
  catsign::testing::TempDir dir;
  for (const char* unit : {"catsignd.service", "catsignd-sign.socket", "catsignd-admin.socket",
                           "catsign-metrics.service", "catsign-metrics.timer", "catsignd-http.socket"}) {
    std::string text = read_text(kPackaging / unit);
    const std::string from = "ExecStart=/usr/sbin/catsignd";
    std::size_t at = text.find(from);
    if (at != std::string::npos) text.replace(at, from.size(), std::string("ExecStart=") + CATSIGN_BINARY);
    catsign::testing::write_text(dir / unit, text);
  }
  RunResult r = run({"systemd-analyze", "verify", "--man=no", (dir / "catsignd.service").string(),
                     (dir / "catsignd-sign.socket").string(), (dir / "catsignd-admin.socket").string(),
                     (dir / "catsign-metrics.service").string(), (dir / "catsign-metrics.timer").string(),
                     (dir / "catsignd-http.socket").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace catsign::daemon
