// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/pin.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "catsign/error.hpp"
#include "softhsm_fixture.hpp"

namespace catsign::token {
namespace {

using catsign::testing::pin_pipe;

bool fd_is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

TEST(Pin, ReadsOneLineFromFdAndClosesIt) {
  int fd = pin_pipe("123456\n");
  SecureString pin = read_pin("unused", fd);
  EXPECT_EQ(pin.view(), "123456");
  EXPECT_FALSE(fd_is_open(fd));
}

TEST(Pin, StripsCrLfAndStopsAtFirstLine) {
  int fd = pin_pipe("s3cret pin\r\nsecond line\n");
  EXPECT_EQ(read_pin("", fd).view(), "s3cret pin");
  EXPECT_FALSE(fd_is_open(fd));
}

TEST(Pin, EofEndsThePin) {
  EXPECT_EQ(read_pin("", pin_pipe("no-newline")).view(), "no-newline");
}

TEST(Pin, RefusesEmptyPin) {
  for (const char* contents : {"", "\n", "\r\n"}) {
    int fd = pin_pipe(contents);
    try {
      read_pin("", fd);
      ADD_FAILURE() << "accepted an empty PIN";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::usage);
      EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fd_is_open(fd));
  }
}

TEST(Pin, RefusesBadFd) {
  EXPECT_THROW(read_pin("", -1), Error);
  int fd = pin_pipe("x\n");
  close(fd);
  try {
    read_pin("", fd);
    ADD_FAILURE() << "read from a closed fd";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::usage);
    EXPECT_NE(std::string(e.what()).find("file descriptor " + std::to_string(fd)), std::string::npos) << e.what();
  }
}

TEST(Pin, RefusesOverlongPin) {
  int fd = pin_pipe(std::string(300, 'x') + "\n");
  EXPECT_THROW(read_pin("", fd), Error);
  EXPECT_FALSE(fd_is_open(fd));
}

TEST(Pin, DisableCoreDumpsInChild) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      disable_core_dumps();
    } catch (...) {
      _exit(2);
    }
    struct rlimit rl {};
    if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0 || rl.rlim_max != 0) _exit(3);
    if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) _exit(4);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Reads from the pty master until `want` appears, EOF/EIO, or 5 s pass.
std::string read_until(int master, const std::string& want) {
  std::string out;
  while (out.find(want) == std::string::npos) {
    struct pollfd p {master, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) break;
    char buf[256];
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

bool echo_on(int master) {
  struct termios t {};
  if (tcgetattr(master, &t) != 0) return false;
  return (t.c_lflag & ECHO) != 0;
}

// A child with a pseudo-terminal as its controlling tty types the PIN: it must not be echoed.
TEST(Pin, TerminalEchoOffThenRestored) {
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      SecureString pin = read_pin("PIN for token catsign: ", std::nullopt);
      std::string out = "GOT:" + std::string(pin.view()) + "\n";
      if (write(STDOUT_FILENO, out.data(), out.size()) < 0) _exit(3);
      _exit(0);
    } catch (...) {
      _exit(2);
    }
  }
  std::string before = read_until(master, "PIN for token catsign: ");
  EXPECT_NE(before.find("PIN for token catsign: "), std::string::npos);
  EXPECT_FALSE(echo_on(master));
  std::string typed = "s3cret\n";
  ASSERT_EQ(write(master, typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
  std::string after = read_until(master, "GOT:s3cret");
  EXPECT_EQ(after.find("s3cret"), after.find("GOT:s3cret") + 4) << "echoed: " << after;
  EXPECT_TRUE(echo_on(master));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(master);
}

TEST(Pin, TerminalRestoredOnSigint) {
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    try {
      read_pin("PIN: ", std::nullopt);
    } catch (...) {
    }
    _exit(0);
  }
  read_until(master, "PIN: ");
  EXPECT_FALSE(echo_on(master));
  kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << "status " << status;
  EXPECT_TRUE(echo_on(master));
  close(master);
}

// Ctrl-Z while the prompt waits: the terminal is restored for the stop, and echo goes off
// again before reading resumes. (The pty child's process group is orphaned, so the kernel
// discards the stop itself; what is checked is that no echo leaks afterwards.)
TEST(Pin, TerminalEchoOffAgainAfterSigtstp) {
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    signal(SIGTSTP, SIG_DFL);
    try {
      SecureString pin = read_pin("PIN: ", std::nullopt);
      std::string out = "GOT:" + std::string(pin.view()) + "\n";
      if (write(STDOUT_FILENO, out.data(), out.size()) < 0) _exit(3);
      _exit(0);
    } catch (...) {
      _exit(2);
    }
  }
  read_until(master, "PIN: ");
  kill(pid, SIGTSTP);
  // The handler turns echo on for the stop and off again after it: wait (bounded) for the
  // second half rather than guess how long the first takes on a busy machine.
  bool off = false;
  for (int i = 0; i < 500 && !off; ++i) {
    usleep(10 * 1000);
    off = !echo_on(master);
  }
  EXPECT_TRUE(off) << "echo stayed on after the stop";
  usleep(50 * 1000);
  EXPECT_FALSE(echo_on(master));
  std::string typed = "after-stop\n";
  ASSERT_EQ(write(master, typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
  std::string after = read_until(master, "GOT:after-stop");
  EXPECT_EQ(after.find("after-stop"), after.find("GOT:after-stop") + 4) << "echoed: " << after;
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  close(master);
}

}  // namespace
}  // namespace catsign::token
