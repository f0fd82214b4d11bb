#include "catsign/util/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "catsign/error.hpp"

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

void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(FileWriter&)>& produce, mode_t mode) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmpl = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  int raw = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (raw < 0) throw_io("cannot create a temporary file for", path, errno);
  UniqueFd fd(raw);
  std::filesystem::path tmp = tmpl;
  try {
    FdWriter writer(fd.get(), path);
    produce(writer);
    writer.flush();
    if (::fchmod(fd.get(), mode) != 0) throw_io("cannot set the mode of", path, errno);
    if (::fsync(fd.get()) != 0) throw_io("cannot fsync", path, errno);
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw_io("cannot rename into place", path, errno);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  // The rename is durable only once the folder itself is synced.
  UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirfd) ::fsync(dirfd.get());
}

void write_file_atomically(const std::filesystem::path& path, ByteView contents, mode_t mode) {
  write_file_atomically(path, [&](FileWriter& w) { w.write(contents); }, mode);
}

}  // namespace catsign
