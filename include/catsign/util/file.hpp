// SPDX-License-Identifier: Apache-2.0
// Files: an owning descriptor, whole-file reads with a size cap, chunked reads, and atomic
// replacement (temporary name in the same folder, fsync, rename, fsync of the folder), so a
// reader never sees a half-written signature or certificate. The replacement also works
// relative to an open folder, so a writer that holds the folder's descriptor never writes
// anywhere else, whatever happens to the path that led to it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "catsign/util/bytes.hpp"

namespace catsign {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

// Opens a file for reading, refusing a folder; `size` gets its size when given. A path that
// does not exist is Error(missing_file), other failures Error(io), naming the path.
UniqueFd open_for_reading(const std::filesystem::path& path, std::uint64_t* size = nullptr);

// Reads from `fd` to its end, at most max_size bytes (more: Error(refused) naming `name`).
std::string read_fd_text(int fd, const std::string& name, std::uint64_t max_size);

// Reads a whole file of at most max_size bytes; Error(io) names the path and the reason.
Bytes read_file(const std::filesystem::path& path, std::uint64_t max_size);

// Calls sink for each chunk of the file, in order, until EOF. Memory stays bounded.
void read_file_chunks(const std::filesystem::path& path,
                      const std::function<void(ByteView)>& sink);
void read_fd_chunks(int fd, const std::string& name, const std::function<void(ByteView)>& sink);
// The same, but never past `limit` bytes: a file that grows while it is read (or a sparse one
// swapped in) costs at most limit + 1 bytes of reading. Returns how many bytes the sink got,
// or limit + 1 when there was more (the sink then got exactly `limit` bytes; the one that
// showed there was more is not given to it).
std::uint64_t read_fd_chunks_up_to(int fd, const std::string& name, std::uint64_t limit,
                                   const std::function<void(ByteView)>& sink);

// Writes `path` atomically. `produce` is given a writer; everything it writes lands in a
// temporary file in the same folder, which is fsynced and renamed over `path` only if
// `produce` returns normally. On any failure the temporary file is removed and `path` is
// untouched. `mode` is applied to the new file.
class FileWriter {
 public:
  virtual ~FileWriter() = default;
  virtual void write(ByteView data) = 0;
  void write(std::string_view text) { write(as_bytes(text)); }
};
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(FileWriter&)>& produce, mode_t mode = 0644);
void write_file_atomically(const std::filesystem::path& path, ByteView contents,
                           mode_t mode = 0644);

// The same, inside the folder open as `dir_fd` (O_RDONLY | O_DIRECTORY, so it can be fsynced):
// the temporary file is created with openat (O_EXCL | O_NOFOLLOW), renamed over `name` with
// renameat, and the folder fsynced, all through the descriptor; no path is resolved again.
// `name` must be one plain entry name (no "/", not "." or ".."), else Error(usage) before
// anything is created. A symlink at `name` is replaced, never followed; a folder at `name`
// fails with Error(io) (EISDIR) and leaves nothing behind. `shown` names the folder in
// messages.
void write_file_atomically_at(int dir_fd, std::string_view name,
                              const std::function<void(FileWriter&)>& produce, mode_t mode,
                              const std::string& shown);
void write_file_atomically_at(int dir_fd, std::string_view name, ByteView contents, mode_t mode,
                              const std::string& shown);

}  // namespace catsign
