// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace catsign::daemon {

namespace {

// The largest reply a client accepts: a cleartext-signed catalog under the daemon's cap.
constexpr std::size_t kMaxReply = std::size_t{1} << 31;

}  // namespace

Client::Client(const std::filesystem::path& socket, std::chrono::seconds timeout)
    : socket_(socket), timeout_(timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string p = socket.string();
  if (p.size() >= sizeof addr.sun_path) throw Error(Errc::usage, "socket path " + p + " is too long");
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  fd_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd_) throw Error(Errc::unreachable, std::string("cannot create a socket: ") + std::strerror(errno));
  if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    throw Error(Errc::unreachable,
                "cannot reach catsignd at " + p + ": " + std::strerror(err) +
                    (err == ENOENT || err == ECONNREFUSED ? "; is catsignd running with this configuration?"
                     : err == EACCES                      ? "; this user may not use that socket"
                                                          : ""));
  }
  timeval tv{static_cast<time_t>(timeout.count()), 0};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

namespace {

void send_all(int fd, std::string_view data, const std::filesystem::path& socket) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw Error(Errc::unreachable, "catsignd at " + socket.string() + " went away: " + std::strerror(errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string Client::read_reply() {
  std::string buf;
  char chunk[65536];
  std::size_t header_end = std::string::npos;
  std::size_t need = 0;
  for (;;) {
    if (header_end == std::string::npos) {
      header_end = buf.find('\n');
      if (header_end != std::string::npos) {
        std::string header = buf.substr(0, header_end);
        if (header.rfind("ERR ", 0) == 0) {
          std::string rest = header.substr(4);
          std::size_t sp = rest.find(' ');
          std::string name = rest.substr(0, sp);
          std::string message = sp == std::string::npos ? "" : rest.substr(sp + 1);
          // The same table that rendered the code gives it back, so the exit code is the one a
          // one-shot command would give for the same failure.
          throw Error(errc_from_reply(name).value_or(Errc::internal), "catsignd: " + message);
        }
        if (header.rfind("OK ", 0) != 0)
          throw Error(Errc::malformed, "catsignd sent a reply this client does not understand");
        try {
          need = std::stoull(header.substr(3));
        } catch (const std::exception&) {
          throw Error(Errc::malformed, "catsignd sent a reply with a bad length");
        }
        if (need > kMaxReply) throw Error(Errc::malformed, "catsignd's reply is too large");
        buf.erase(0, header_end + 1);
      } else if (buf.size() > 4096) {
        throw Error(Errc::malformed, "catsignd sent a reply this client does not understand");
      }
    }
    if (header_end != std::string::npos && buf.size() >= need) {
      buf.resize(need);
      return buf;
    }
    ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      throw Error(Errc::unreachable, "catsignd at " + socket_.string() + " did not answer within " +
                                         std::to_string(timeout_.count()) + "s");
    if (n <= 0)
      throw Error(Errc::unreachable, "catsignd at " + socket_.string() + " closed the connection before answering");
    buf.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string Client::call(const std::string& request) {
  send_all(fd_.get(), request, socket_);
  return read_reply();
}

std::string Client::unlock(const SecureString& pin) {
  // One buffer for request and PIN, wiped before it is freed.
  SecureString message;
  for (char c : std::string_view("UNLOCK\n")) message.push_back(c);
  for (char c : pin.view()) message.push_back(c);
  message.push_back('\n');
  send_all(fd_.get(), message.view(), socket_);
  message.clear();
  return read_reply();
}

}  // namespace catsign::daemon
