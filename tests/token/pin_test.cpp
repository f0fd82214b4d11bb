#include "catsign/token/pin.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace catsign::token
