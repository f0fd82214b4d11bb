// SPDX-License-Identifier: Apache-2.0
#include "catsign/catalog/beneath.hpp"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <future>

#include "../support/process.hpp"
#include "catsign/error.hpp"

namespace catsign::catalog {
namespace {

namespace fs = std::filesystem;
using catsign::testing::TempDir;
using catsign::testing::write_text;

constexpr std::uint64_t kCap = 1 << 20;

// <tmp>/root is the catalog root, laid out like an OpenCSW mirror:
//   dublin/i386/5.10/catalog                  plain file
//   testing -> dublin                         directory symlink (relative)
//   allpkgs/catalog-unstable
//   unstable/i386/5.10/catalog -> ../../../allpkgs/catalog-unstable
//   a/                                        an empty folder, for "a/../../x"
// <tmp>/outside/secret is what an attacker would like signed.
class Beneath : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_dir() / "dublin/i386/5.10");
    fs::create_directories(root_dir() / "unstable/i386/5.10");
    fs::create_directories(root_dir() / "allpkgs");
    fs::create_directories(root_dir() / "a");
    fs::create_directories(tmp_ / "outside");
    write_text(root_dir() / "dublin/i386/5.10/catalog", "dublin catalog\n");
    write_text(root_dir() / "allpkgs/catalog-unstable", "unstable catalog\n");
    write_text(tmp_ / "outside/secret", "secret\n");
    fs::create_directory_symlink("dublin", root_dir() / "testing");
    fs::create_symlink("../../../allpkgs/catalog-unstable",
                       root_dir() / "unstable/i386/5.10/catalog");
    root_ = std::make_unique<Root>(root_dir());
  }

  fs::path root_dir() const { return tmp_ / "root"; }
  const Root& root() const { return *root_; }

  std::string read_all(const OpenedFile& f) {
    std::string out(f.size, '\0');
    EXPECT_EQ(::pread(f.fd.get(), out.data(), out.size(), 0), static_cast<ssize_t>(f.size));
    return out;
  }

  // open_beneath must refuse `rel` with `code` and a one-line message containing `needle`
  // and naming the path.
  void expect_refused(std::string_view rel, const std::string& needle,
                      std::uint64_t cap = kCap, Errc code = Errc::refused) {
    SCOPED_TRACE(std::string(rel.substr(0, 100)));
    try {
      open_beneath(root(), rel, cap);
      ADD_FAILURE() << "opened";
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_EQ(e.code(), code) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      if (rel.size() <= 200 &&
          rel.find_first_of(std::string_view("\0\n", 2)) == std::string_view::npos) {
        EXPECT_NE(msg.find("'" + std::string(rel) + "'"), std::string::npos) << msg;
      }
    }
  }

  TempDir tmp_;
  std::unique_ptr<Root> root_;
};

// ---- the good cases ----

TEST_F(Beneath, PlainFileOpensReadOnlyBlockingCloexec) {
  OpenedFile f = open_beneath(root(), "dublin/i386/5.10/catalog", kCap);
  EXPECT_EQ(f.size, 15u);
  EXPECT_EQ(read_all(f), "dublin catalog\n");
  int fl = ::fcntl(f.fd.get(), F_GETFL);
  EXPECT_EQ(fl & O_NONBLOCK, 0) << "O_NONBLOCK cleared";
  EXPECT_EQ(fl & O_ACCMODE, O_RDONLY);
  EXPECT_NE(::fcntl(f.fd.get(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_EQ(::write(f.fd.get(), "x", 1), -1);
}

TEST_F(Beneath, DirectorySymlinkInsideTheTree) {
  OpenedFile f = open_beneath(root(), "testing/i386/5.10/catalog", kCap);
  EXPECT_EQ(read_all(f), "dublin catalog\n");
}

TEST_F(Beneath, CatalogSymlinkIntoAllpkgs) {
  OpenedFile f = open_beneath(root(), "unstable/i386/5.10/catalog", kCap);
  EXPECT_EQ(read_all(f), "unstable catalog\n");
}

TEST_F(Beneath, DotDotThatStaysInsideIsFine) {
  OpenedFile f = open_beneath(root(), "a/../dublin/./i386/5.10/catalog", kCap);
  EXPECT_EQ(read_all(f), "dublin catalog\n");
}

TEST_F(Beneath, HardlinkToAFileOutsideIsAllowedByDesign) {
  // RESOLVE_BENEATH is about paths, not inodes: a hardlink is an ordinary entry in the tree
  // (see beneath.hpp). Whoever can make it can already write the tree.
  if (::link((tmp_ / "outside/secret").c_str(), (root_dir() / "hard").c_str()) != 0) {
    GTEST_FAIL() << "link: " << std::strerror(errno);
  }
  OpenedFile f = open_beneath(root(), "hard", kCap);
  EXPECT_EQ(read_all(f), "secret\n");
}

TEST_F(Beneath, SizeCapIsInclusive) {
  EXPECT_EQ(open_beneath(root(), "dublin/i386/5.10/catalog", 15).size, 15u);
  expect_refused("dublin/i386/5.10/catalog", "is 15 bytes, over the cap of 14 bytes", 14);
}

TEST_F(Beneath, EmptyFileIsFine) {
  write_text(root_dir() / "empty", "");
  EXPECT_EQ(open_beneath(root(), "empty", kCap).size, 0u);
}

// ---- escapes ----

TEST_F(Beneath, DotDotEscapes) {
  expect_refused("..", "escapes the catalog root");
  expect_refused("../etc/passwd", "escapes the catalog root");
  expect_refused("a/../../x", "escapes the catalog root");
  expect_refused("../outside/secret", "escapes the catalog root");
  expect_refused("dublin/i386/../../../outside/secret", "escapes the catalog root");
  expect_refused("testing/../../outside/secret", "escapes the catalog root");
}

TEST_F(Beneath, AbsolutePaths) {
  expect_refused("/etc/passwd", "is an absolute path");
  expect_refused("/etc/passwd", "escapes the catalog root");
  expect_refused((root_dir() / "dublin/i386/5.10/catalog").string(), "is an absolute path");
  expect_refused("//etc/passwd", "is an absolute path");
}

TEST_F(Beneath, NulAndEmptyAreRefusedBeforeAnySyscall) {
  expect_refused(std::string_view("dublin/i386/5.10/catalog\0/../../../outside/secret", 50),
                 "contains a NUL byte");
  expect_refused(std::string_view("\0", 1), "contains a NUL byte");
  expect_refused("", "is empty");
  expect_refused(std::string(5000, 'a'), "is too long");
}

TEST_F(Beneath, SymlinkToAnAbsolutePathOutside) {
  fs::create_symlink(tmp_ / "outside/secret", root_dir() / "evil");
  expect_refused("evil", "escapes the catalog root");
  fs::create_directory_symlink("/etc", root_dir() / "etc");
  expect_refused("etc/passwd", "escapes the catalog root");
}

TEST_F(Beneath, SymlinkToARelativePathOutside) {
  fs::create_symlink("../outside/secret", root_dir() / "evil");
  expect_refused("evil", "escapes the catalog root");
  fs::create_symlink("../../../../outside/secret", root_dir() / "dublin/i386/5.10/evil");
  expect_refused("dublin/i386/5.10/evil", "escapes the catalog root");
  fs::create_directory_symlink("..", root_dir() / "up");
  expect_refused("up/outside/secret", "escapes the catalog root");
  // A catalog that is itself a symlink escaping, reached through the testing symlink.
  fs::remove(root_dir() / "dublin/i386/5.10/catalog");
  fs::create_symlink("../../../../outside/secret", root_dir() / "dublin/i386/5.10/catalog");
  expect_refused("testing/i386/5.10/catalog", "escapes the catalog root");
}

TEST_F(Beneath, AbsoluteSymlinkIsRefusedEvenWhenItPointsInside) {
  // Documented in beneath.hpp: mirrors must use relative symlinks.
  fs::create_symlink(root_dir() / "dublin/i386/5.10/catalog", root_dir() / "abs-inside");
  expect_refused("abs-inside", "escapes the catalog root");
}

TEST_F(Beneath, SymlinkChainThatEscapes) {
  fs::create_symlink("c2", root_dir() / "c1");
  fs::create_symlink("a/../c3", root_dir() / "c2");
  fs::create_symlink("dublin/../../outside/secret", root_dir() / "c3");
  expect_refused("c1", "escapes the catalog root");
}

TEST_F(Beneath, SymlinkLoop) {
  fs::create_symlink("l2", root_dir() / "l1");
  fs::create_symlink("l1", root_dir() / "l2");
  expect_refused("l1", "too many symlinks");
}

TEST_F(Beneath, DeviceSymlinkInsideTheRoot) {
  fs::create_symlink("/dev/null", root_dir() / "null");
  expect_refused("null", "escapes the catalog root");
  fs::create_symlink("../../../../../../../../../../../../dev/null",
                     root_dir() / "dublin/i386/5.10/null");
  expect_refused("dublin/i386/5.10/null", "escapes the catalog root");
}

TEST_F(Beneath, ProcMagicLinksAreRefused) {
  if (!fs::exists("/proc/self/root")) GTEST_FAIL() << "no /proc";
  Root proc("/proc/self");
  // "root" and "cwd" are relative names beneath /proc/self, but magic links.
  for (const char* rel : {"root/etc/passwd", "cwd", "exe"}) {
    SCOPED_TRACE(rel);
    try {
      open_beneath(proc, rel, kCap);
      ADD_FAILURE() << "opened";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::refused);
      EXPECT_NE(std::string(e.what()).find("magic link"), std::string::npos) << e.what();
    }
  }
}

// ---- not a regular file ----

TEST_F(Beneath, FifoIsRefusedWithoutBlocking) {
  fs::create_directories(root_dir() / "fifo/i386/5.10");
  fs::path fifo = root_dir() / "fifo/i386/5.10/catalog";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  auto result = std::async(std::launch::async, [&] {
    try {
      open_beneath(root(), "fifo/i386/5.10/catalog", kCap);
      return std::string("opened");
    } catch (const Error& e) {
      return std::string(e.what());
    }
  });
  if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    // Unblock the stuck open so the test ends, then fail.
    int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    result.wait();
    if (w >= 0) ::close(w);
    FAIL() << "open_beneath blocked on a FIFO";
  }
  std::string msg = result.get();
  EXPECT_NE(msg.find("is a FIFO, not a regular file"), std::string::npos) << msg;
  expect_refused("fifo/i386/5.10/catalog", "a FIFO");
}

TEST_F(Beneath, DirectoryIsRefused) {
  expect_refused("dublin/i386/5.10", "is a directory, not a regular file");
  expect_refused("testing", "is a directory");
  expect_refused(".", "is a directory");
}

TEST_F(Beneath, DeviceNodeInsideTheTreeIsRefused) {
  if (::mknod((root_dir() / "null").c_str(), S_IFCHR | 0600, makedev(1, 3)) != 0) {
    GTEST_FAIL() << "mknod: " << std::strerror(errno);
  }
  expect_refused("null", "is a character device, not a regular file");
}

TEST_F(Beneath, SocketIsRefused) {
  fs::path p = root_dir() / "sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (p.string().size() >= sizeof addr.sun_path) GTEST_FAIL() << "temp path too long";
  std::strcpy(addr.sun_path, p.c_str());
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_TRUE(s);
  ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  expect_refused("sock", "is a socket, not a regular file");
}

// ---- plain failures ----

TEST_F(Beneath, MissingFile) {
  expect_refused("dublin/i386/5.11/catalog", "no such catalog file");
  expect_refused("nowhere", "no such catalog file");
  fs::create_symlink("gone", root_dir() / "dangling");
  expect_refused("dangling", "no such catalog file");
}

TEST_F(Beneath, FileUsedAsAFolder) {
  expect_refused("dublin/i386/5.10/catalog/x", "not a directory");
  expect_refused("dublin/i386/5.10/catalog/", "not a directory");
}

TEST_F(Beneath, PermissionDenied) {
  write_text(root_dir() / "private", "x");
  fs::permissions(root_dir() / "private", fs::perms::none);
  if (::geteuid() != 0) {
    expect_refused("private", "permission denied");
    return;
  }
  // Root reads everything: try it as nobody in a child process.
  fs::permissions(tmp_.path(), fs::perms::owner_all | fs::perms::group_exec |
                                   fs::perms::others_exec);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    try {
      open_beneath(root(), "private", kCap);
      ::_exit(1);
    } catch (const Error& e) {
      bool ok = e.code() == Errc::refused &&
                std::string(e.what()).find("'private' cannot be read: permission denied") !=
                    std::string::npos;
      ::_exit(ok ? 0 : 2);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) GTEST_FAIL() << "cannot become nobody";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: opened, 2: wrong error";
}

// Without openat2 (old kernel, or a seccomp filter answering ENOSYS) nothing is opened: no
// fallback to a weaker open. A child installs such a filter and tries.
TEST_F(Beneath, NoOpenat2FailsClosed) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
      ::_exit(3);
    }
    try {
      open_beneath(root(), "dublin/i386/5.10/catalog", kCap);
      ::_exit(1);
    } catch (const Error& e) {
      bool ok = e.code() == Errc::io &&
                std::string(e.what()).find("no openat2") != std::string::npos;
      ::_exit(ok ? 0 : 2);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) GTEST_FAIL() << "cannot install a seccomp filter";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: opened, 2: wrong error";
}

TEST_F(Beneath, MessagesStayOnOneLine) {
  // "a\n.." is just a name that does not exist; the newline is escaped in the message.
  expect_refused("a\n../../x", "'a\\x0a../../x'");
  expect_refused("no\nsuch", "no such catalog file");
}

TEST_F(Beneath, TheTreeIsNamedInMessages) {
  Root pkgs(root_dir(), "package");
  try {
    open_beneath(pkgs, "allpkgs/foo.pkg.gz", kCap);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no such package file"), std::string::npos) << e.what();
  }
}

TEST(BeneathRoot, MissingRootIsAUsageErrorNamingThePath) {
  try {
    Root r("/nonexistent-catsign-root");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::usage);
    EXPECT_NE(std::string(e.what()).find("/nonexistent-catsign-root"), std::string::npos);
  }
  TempDir d;
  write_text(d / "file", "x");
  EXPECT_THROW(Root(d / "file"), Error);
}

}  // namespace
}  // namespace catsign::catalog
