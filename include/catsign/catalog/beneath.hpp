// SPDX-License-Identifier: Apache-2.0
// Opening files beneath a fixed root so that no client-supplied path can escape it: openat2
// with RESOLVE_BENEATH (symlinks inside the tree, such as testing -> dublin, work; "..",
// absolute paths and symlinks that leave the tree are refused by the kernel) and
// RESOLVE_NO_MAGICLINKS. The file must be a regular file no larger than a cap.
//
// What the kernel's rule means in practice:
// - Symlinks must be relative. An absolute symlink is refused even when it points back inside
//   the tree (RESOLVE_BENEATH treats a leading "/" as an escape), so mirrors use relative links
//   (testing -> dublin, catalog -> ../../../allpkgs/...).
// - ".." is fine as long as it never climbs above the root at any step.
// - Hardlinks are allowed: the rule is about paths, not inodes, and a hardlink is an ordinary
//   directory entry inside the tree. Whoever can write the tree can already put any bytes
//   there; fs.protected_hardlinks (on by default) keeps users from linking files they do not
//   own.
// - Without openat2 (Linux < 5.6, or a seccomp filter that hides it) nothing is opened: there
//   is no fallback to a weaker open.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "catsign/util/file.hpp"

namespace catsign::catalog {

class Root {
 public:
  // Opens the root folder (O_PATH | O_DIRECTORY). Error(usage) naming the path on failure.
  // `what` names the tree in messages: "escapes the catalog root", "no such package file".
  explicit Root(const std::filesystem::path& path, std::string what = "catalog");
  int fd() const noexcept { return fd_.get(); }
  const std::filesystem::path& path() const noexcept { return path_; }
  const std::string& what() const noexcept { return what_; }

 private:
  std::filesystem::path path_;
  std::string what_;
  UniqueFd fd_;
};

struct OpenedFile {
  UniqueFd fd;  // read-only, blocking, close-on-exec
  // The size when opened. The file may still grow: a reader stops at the cap regardless.
  std::uint64_t size = 0;
};

// Opens `relative` beneath `root` for reading. Refuses with Error(refused) and a one-line
// message naming `relative` and the problem: an escape from the root, a missing file, a loop
// or magic link, no permission, anything but a regular file (FIFO, directory, device, socket),
// a file over `max_size`. Embedded NUL bytes, empty and over-long paths are refused before any
// syscall. The path is first resolved with O_PATH and checked with fstat, so a device or FIFO
// is never actually opened; the real open (O_NONBLOCK so nothing can stall the caller, then
// cleared) must reach the same inode. A kernel without openat2 is Error(io).
OpenedFile open_beneath(const Root& root, std::string_view relative, std::uint64_t max_size);

}  // namespace catsign::catalog
