// SPDX-License-Identifier: Apache-2.0
#include "catsign/catalog/beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "catsign/error.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::catalog {

namespace {

constexpr std::size_t kMaxQuoted = 200;
constexpr int kMaxRetries = 8;


const char* file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symlink";
  return "not a regular file";
}

class Opener {
 public:
  Opener(const Root& root, std::string_view relative) : root_(root), relative_(relative) {}

  [[noreturn]] void refuse(const std::string& problem) const {
    throw Error(Errc::refused, root_.what() + " file " + quote_for_message(relative_, kMaxQuoted) + " " + problem);
  }

  // openat2 beneath the root; EINTR and EAGAIN (a rename or mount raced a ".." walk) retried.
  UniqueFd open(std::uint64_t flags) const {
    open_how how{};
    how.flags = flags;
    how.mode = 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    std::string path(relative_);
    for (int attempt = 0;; ++attempt) {
      long fd = ::syscall(SYS_openat2, root_.fd(), path.c_str(), &how, sizeof how);
      if (fd >= 0) return UniqueFd(static_cast<int>(fd));
      int err = errno;
      if ((err == EINTR || err == EAGAIN) && attempt < kMaxRetries) continue;
      fail(err);
    }
  }

  [[noreturn]] void fail(int err) const {
    const std::string root = root_.path().string();
    switch (err) {
      case EXDEV:
        refuse("escapes the " + root_.what() + " root " + root +
               " (\"..\" above it, an absolute path, or a symlink that leaves it; symlinks "
               "must be relative and stay inside)");
      case ENOENT:
        refuse("does not exist (no such " + root_.what() + " file under " + root + ")");
      case ENOTDIR:
        refuse("has a part that is not a directory");
      case ELOOP:
        refuse("goes through too many symlinks (a loop?) or a /proc magic link");
      case EACCES:
        refuse("cannot be read: permission denied");
      case ENAMETOOLONG:
        refuse("is too long");
      case EAGAIN:
      case EINTR:
        refuse("could not be resolved: the tree kept changing while it was opened");
      case ENXIO:
        refuse("is a socket or a device with nothing behind it");
      case ENOSYS:
        throw Error(Errc::io, "cannot open " + root_.what() + " files safely: this kernel has no "
                              "openat2 (Linux 5.6 or later is needed, and a seccomp filter must "
                              "allow it); refusing to fall back to a weaker open");
      case EPERM:
        throw Error(Errc::io, "openat2 on " + quote_for_message(relative_, kMaxQuoted) +
                                  " was not permitted (EPERM): a seccomp filter may block it; "
                                  "catsign will not fall back to a weaker open");
      default:
        throw Error(Errc::io, "cannot open " + root_.what() + " file " + quote_for_message(relative_, kMaxQuoted) +
                                  " under " + root + ": " + std::strerror(err));
    }
  }

  struct stat stat_of(int fd) const {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      throw Error(Errc::io, "cannot stat " + root_.what() + " file " + quote_for_message(relative_, kMaxQuoted) + ": " +
                                std::strerror(errno));
    }
    return st;
  }

 private:
  const Root& root_;
  std::string_view relative_;
};

}  // namespace

Root::Root(const std::filesystem::path& path, std::string what)
    : path_(path), what_(std::move(what)) {
  int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw Error(Errc::usage, "cannot open the " + what_ + " root " + path.string() + ": " +
                                 std::strerror(errno));
  }
  fd_.reset(fd);
}

OpenedFile open_beneath(const Root& root, std::string_view relative, std::uint64_t max_size) {
  Opener op(root, relative);
  if (relative.empty()) op.refuse("is empty: a path relative to the root is needed");
  if (relative.find('\0') != std::string_view::npos) op.refuse("contains a NUL byte");
  if (relative.size() >= PATH_MAX) op.refuse("is too long");
  // The kernel refuses these too (EXDEV); saying so first gives the clearer message.
  if (relative.front() == '/') {
    op.refuse("is an absolute path and escapes the " + root.what() + " root " +
              root.path().string() + "; paths are relative to it");
  }

  // Resolve without opening, so a FIFO or device (a tape that rewinds on open) is never opened.
  UniqueFd probe = op.open(O_PATH | O_CLOEXEC);
  struct stat before = op.stat_of(probe.get());
  if (!S_ISREG(before.st_mode)) {
    op.refuse(std::string("is ") + file_type(before.st_mode) + ", not a regular file");
  }

  UniqueFd fd = op.open(O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  struct stat st = op.stat_of(fd.get());
  if (!S_ISREG(st.st_mode)) {
    op.refuse(std::string("is ") + file_type(st.st_mode) + ", not a regular file");
  }
  if (st.st_dev != before.st_dev || st.st_ino != before.st_ino) {
    op.refuse("changed while it was being opened; try again");
  }
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_size) {
    op.refuse("is " + std::to_string(size) + " bytes, over the cap of " +
              std::to_string(max_size) + " bytes");
  }

  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    throw Error(Errc::io, "cannot clear O_NONBLOCK on " + root.what() + " file " +
                              quote_for_message(relative, kMaxQuoted) + ": " + std::strerror(errno));
  }
  return OpenedFile{std::move(fd), size};
}

}  // namespace catsign::catalog
