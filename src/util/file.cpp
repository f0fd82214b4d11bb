// SPDX-License-Identifier: Apache-2.0
#include "catsign/util/file.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "catsign/error.hpp"
#include "catsign/util/quote.hpp"

namespace catsign {

namespace {

// A file or folder that is not there is the caller's mistake (exit 2), not a failing disk.
[[noreturn]] void throw_io(const std::string& what, const std::filesystem::path& path, int err) {
  throw Error(err == ENOENT || err == ENOTDIR ? Errc::missing_file : Errc::io,
              what + " " + path.string() + ": " + std::strerror(err));
}

void write_all(int fd, ByteView data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot write", path, errno);
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
}

class FdWriter final : public FileWriter {
 public:
  FdWriter(int fd, const std::filesystem::path& path) : fd_(fd), path_(path) {}
  using FileWriter::write;
  void write(ByteView data) override {
    // Small writes are gathered so that streaming a cleartext body line by line stays cheap.
    if (buffer_.size() + data.size() > kBuffer) flush();
    if (data.size() >= kBuffer) {
      write_all(fd_, data, path_);
    } else {
      buffer_.insert(buffer_.end(), data.begin(), data.end());
    }
  }
  void flush() {
    write_all(fd_, buffer_, path_);
    buffer_.clear();
  }

 private:
  static constexpr std::size_t kBuffer = 1 << 16;
  int fd_;
  const std::filesystem::path& path_;
  Bytes buffer_;
};

}  // namespace

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

void read_fd_chunks(int fd, const std::string& name, const std::function<void(ByteView)>& sink) {
  std::array<std::uint8_t, 1 << 16> buffer;
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot read", name, errno);
    }
    if (n == 0) return;
    sink(ByteView(buffer.data(), static_cast<std::size_t>(n)));
  }
}

std::uint64_t read_fd_chunks_up_to(int fd, const std::string& name, std::uint64_t limit,
                                   const std::function<void(ByteView)>& sink) {
  std::array<std::uint8_t, 1 << 16> buffer;
  std::uint64_t got = 0;
  for (;;) {
    // One byte past the limit is enough to see that there is more.
    const std::uint64_t left = limit - got;
    const std::size_t want = left >= buffer.size() ? buffer.size() : static_cast<std::size_t>(left) + 1;
    ssize_t n = ::read(fd, buffer.data(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot read", name, errno);
    }
    if (n == 0) return got;
    if (static_cast<std::uint64_t>(n) > left) {
      if (left > 0) sink(ByteView(buffer.data(), static_cast<std::size_t>(left)));
      return limit + 1;
    }
    sink(ByteView(buffer.data(), static_cast<std::size_t>(n)));
    got += static_cast<std::uint64_t>(n);
  }
}

UniqueFd open_for_reading(const std::filesystem::path& path, std::uint64_t* size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_io("cannot open", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_io("cannot stat", path, errno);
  if (S_ISDIR(st.st_mode)) throw Error(Errc::usage, "cannot read " + path.string() + ": it is a directory");
  if (size != nullptr) *size = static_cast<std::uint64_t>(st.st_size);
  return fd;
}

void read_file_chunks(const std::filesystem::path& path, const std::function<void(ByteView)>& sink) {
  UniqueFd fd = open_for_reading(path);
  read_fd_chunks(fd.get(), path.string(), sink);
}

std::string read_fd_text(int fd, const std::string& name, std::uint64_t max_size) {
  std::string out;
  read_fd_chunks(fd, name, [&](ByteView chunk) {
    if (out.size() + chunk.size() > max_size)
      throw Error(Errc::refused, name + " is larger than " + std::to_string(max_size) + " bytes");
    out.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
  });
  return out;
}

Bytes read_file(const std::filesystem::path& path, std::uint64_t max_size) {
  Bytes out;
  read_file_chunks(path, [&](ByteView chunk) {
    if (out.size() + chunk.size() > max_size)
      throw Error(Errc::io, "cannot read " + path.string() + ": larger than " +
                                std::to_string(max_size) + " bytes");
    out.insert(out.end(), chunk.begin(), chunk.end());
  });
  return out;
}

namespace {

// ".NAME.tmp-XXXXXX" with six random letters; NAME is cut so the whole stays a valid entry name.
std::string temporary_name(std::string_view name) {
  static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::uint8_t random[6];
  std::size_t got = 0;
  while (got < sizeof random) {
    ssize_t n = ::getrandom(random + got, sizeof random - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw Error(Errc::io, std::string("cannot get random bytes for a temporary name: ") + std::strerror(errno));
    got += static_cast<std::size_t>(n);
  }
  // Appended piece by piece: GCC 12 at -O3 takes `"." + temporary` for an overlapping memcpy.
  std::string out(1, '.');
  out.append(name.substr(0, 200)).append(".tmp-");
  for (std::uint8_t b : random) out += letters[b % (sizeof letters - 1)];
  return out;
}

void require_entry_name(std::string_view name, const std::string& folder) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos)
    throw Error(Errc::usage, "cannot write " + quote_for_message(name) + " in " + folder +
                                 ": not a plain file name inside the folder");
}

// `name` is one entry name; `path` is what messages call the file.
void write_at(int dir_fd, std::string_view name, const std::function<void(FileWriter&)>& produce, mode_t mode,
              const std::filesystem::path& path) {
  // O_EXCL | O_NOFOLLOW: the temporary name is ours alone and never a link someone planted.
  std::string tmp;
  UniqueFd fd;
  for (int attempt = 0; !fd; ++attempt) {
    tmp = temporary_name(name);
    int raw = ::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (raw >= 0) {
      fd.reset(raw);
    } else if (errno != EEXIST || attempt >= 100) {
      throw_io("cannot create a temporary file for", path, errno);
    }
  }
  try {
    FdWriter writer(fd.get(), path);
    produce(writer);
    writer.flush();
    if (::fchmod(fd.get(), mode) != 0) throw_io("cannot set the mode of", path, errno);
    if (::fsync(fd.get()) != 0) throw_io("cannot fsync", path, errno);
    fd.reset();
    if (::renameat(dir_fd, tmp.c_str(), dir_fd, std::string(name).c_str()) != 0)
      throw_io("cannot rename into place", path, errno);
  } catch (...) {
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    throw;
  }
  // The rename is durable only once the folder itself is synced (a folder we may search but
  // not read, opened with O_PATH, can't be fsynced; the new entry is in place all the same).
  ::fsync(dir_fd);
}

}  // namespace

void write_file_atomically_at(int dir_fd, std::string_view name,
                              const std::function<void(FileWriter&)>& produce, mode_t mode,
                              const std::string& shown) {
  require_entry_name(name, shown);
  write_at(dir_fd, name, produce, mode, std::filesystem::path(shown) / std::string(name));
}

void write_file_atomically_at(int dir_fd, std::string_view name, ByteView contents, mode_t mode,
                              const std::string& shown) {
  write_file_atomically_at(dir_fd, name, [&](FileWriter& w) { w.write(contents); }, mode, shown);
}

void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(FileWriter&)>& produce, mode_t mode) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  require_entry_name(path.filename().string(), dir.string());
  // Read access lets the folder be fsynced; a folder we may only search and write is still used.
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd && errno == EACCES) dir_fd.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) throw_io("cannot create a temporary file for", path, errno);
  write_at(dir_fd.get(), path.filename().string(), produce, mode, path);
}

void write_file_atomically(const std::filesystem::path& path, ByteView contents, mode_t mode) {
  write_file_atomically(path, [&](FileWriter& w) { w.write(contents); }, mode);
}

}  // namespace catsign
