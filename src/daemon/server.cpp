#include "catsign/daemon/server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <thread>
#include <unordered_map>
#include <utility>

#include "catsign/util/file.hpp"
#include "catsign/util/secure_string.hpp"

namespace catsign::daemon {

namespace {

using Clock = std::chrono::steady_clock;

enum class SocketKind { sign, admin };

constexpr std::size_t kMaxPinLine = 256;
// Room for the longest request, its LF, and on the admin socket a PIN line after UNLOCK.
constexpr std::size_t kBufferSize = kMaxRequestLine + 1 + kMaxPinLine + 1;

struct Connection {
  int fd = -1;
  SocketKind kind = SocketKind::sign;
  Peer peer;
  std::array<char, kBufferSize> buffer{};
  std::size_t length = 0;
  Clock::time_point deadline;
  bool busy = false;  // a worker owns the connection until it reports back
  bool eof = false;   // the peer has finished sending (it may still read our replies)

  // The buffer may have held a PIN: wipe it before the memory is reused.
  ~Connection() { secure_wipe(buffer.data(), buffer.size()); }

  void consume(std::size_t n) {
    std::memmove(buffer.data(), buffer.data() + n, length - n);
    secure_wipe(buffer.data() + (length - n), n);
    length -= n;
  }
};

struct Job {
  int fd = -1;
  Peer peer;
  Request request;
  SecureString pin;  // UNLOCK only
};

struct Done {
  int fd;
  bool keep_open;
};

[[noreturn]] void fail(const std::string& what) { throw Error(Errc::usage, what); }

// Sends all of `data` within `timeout`; false when the peer is gone or too slow to read.
bool send_all(int fd, std::string_view data, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) return false;
  }
  return true;
}

UniqueFd listen_at(const std::filesystem::path& path, mode_t mode) {
  std::string p = path.string();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (p.size() >= sizeof addr.sun_path) fail("socket path " + p + " is too long for a Unix socket");
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  struct stat st {};
  if (::lstat(p.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) fail(p + " exists and is not a socket: remove it or configure another socket path");
    ::unlink(p.c_str());  // a stale socket from an earlier run
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) fail(std::string("cannot create a socket: ") + std::strerror(errno));
  // Created with no access at all, then opened up to `mode`: never briefly world-writable.
  mode_t old = ::umask(0777);
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::umask(old);
  if (rc != 0) fail("cannot bind " + p + ": " + std::strerror(err));
  if (::chmod(p.c_str(), mode) != 0) fail("cannot set the mode of " + p + ": " + std::strerror(errno));
  if (::listen(fd.get(), 128) != 0) fail("cannot listen on " + p + ": " + std::strerror(errno));
  return fd;
}

UniqueFd adopt(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return UniqueFd(fd);
}

template <typename Id>
bool contains(const std::vector<Id>& list, Id id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

}  // namespace

struct Server::Impl {
  const Config& config;
  SigningService& service;
  UniqueFd sign_listen;
  UniqueFd admin_listen;
  UniqueFd wake;
  std::atomic<bool> stopping{false};
  uid_t own_uid = ::getuid();
  std::unordered_map<int, std::unique_ptr<Connection>> connections;

  std::mutex jobs_mutex;
  std::condition_variable jobs_cv;
  std::deque<Job> jobs;
  bool workers_stop = false;
  std::vector<std::thread> workers;

  std::mutex done_mutex;
  std::vector<Done> done;

  // Refusals are audited off the event thread: an fsync per garbage request there would slow
  // every other client. The queue is bounded; past it, refusals are counted, not recorded.
  struct Refusal {
    Peer peer;
    Error error;
    std::string request;
  };
  static constexpr std::size_t kMaxPendingRefusals = 256;
  std::mutex refusals_mutex;
  std::condition_variable refusals_cv;
  std::deque<Refusal> refusals;
  std::uint64_t refusals_dropped = 0;
  bool refusals_stop = false;
  std::thread refusal_auditor;

  void audit_refusal(const Peer& peer, const Error& e, const std::string& request) {
    {
      std::lock_guard lock(refusals_mutex);
      if (refusals.size() >= kMaxPendingRefusals) {
        ++refusals_dropped;
        return;
      }
      refusals.push_back({peer, e, request.substr(0, 100)});
    }
    refusals_cv.notify_one();
  }

  void refusal_loop() {
    for (;;) {
      std::unique_lock lock(refusals_mutex);
      refusals_cv.wait(lock, [&] { return refusals_stop || !refusals.empty(); });
      if (refusals.empty()) return;
      Refusal r = std::move(refusals.front());
      refusals.pop_front();
      std::uint64_t dropped = std::exchange(refusals_dropped, 0);
      lock.unlock();
      if (dropped > 0)
        spdlog::warn("{} refused requests came faster than the audit log could record them; they were not recorded one by one",
                     dropped);
      service.audit_refusal(r.peer, r.error, r.request);
    }
  }

  Impl(const Config& c, SigningService& s) : config(c), service(s) {}

  std::chrono::milliseconds timeout() const { return config.daemon.request_timeout; }

  void poke() noexcept {
    std::uint64_t one = 1;
    (void)!::write(wake.get(), &one, sizeof one);
  }

  // ---- workers: the slow requests ----
  void worker_loop() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(jobs_mutex);
        jobs_cv.wait(lock, [&] { return workers_stop || !jobs.empty(); });
        if (workers_stop && jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      Outcome outcome;
      if (job.request.kind == Request::Kind::unlock) {
        outcome = service.unlock(job.pin, job.peer);
        job.pin.clear();
      } else {
        outcome = service.handle(job.request, job.peer);
      }
      std::string reply = render_reply(outcome);
      bool ok = send_all(job.fd, reply, timeout());
      {
        std::lock_guard lock(done_mutex);
        done.push_back({job.fd, ok});
      }
      poke();
    }
  }

  void submit(Job job) {
    {
      std::lock_guard lock(jobs_mutex);
      jobs.push_back(std::move(job));
    }
    jobs_cv.notify_one();
  }

  // ---- the event thread ----
  void close_connection(int fd) {
    connections.erase(fd);
    ::close(fd);
  }

  // Replies from the event thread are short; a peer that cannot take them is dropped.
  void reply_and_close(Connection& c, const std::string& reply) {
    send_all(c.fd, reply, std::chrono::milliseconds(100));
    close_connection(c.fd);
  }

  bool authorised(SocketKind kind, const Peer& peer, const std::vector<gid_t>& groups) const {
    if (peer.uid == own_uid) return true;
    if (kind == SocketKind::admin) return contains(config.daemon.admin_uids, peer.uid);
    if (contains(config.daemon.sign_uids, peer.uid) || contains(config.daemon.sign_gids, peer.gid)) return true;
    for (gid_t g : groups)
      if (contains(config.daemon.sign_gids, g)) return true;
    return false;
  }

  void accept_all(int listen_fd, SocketKind kind) {
    for (;;) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) spdlog::warn("accept failed: {}", std::strerror(errno));
        return;
      }
      auto c = std::make_unique<Connection>();
      c->fd = fd;
      c->kind = kind;
      c->deadline = Clock::now() + timeout();
      ucred cred{};
      socklen_t len = sizeof cred;
      if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        ::close(fd);
        continue;
      }
      c->peer = {cred.pid, cred.uid, cred.gid};
      std::vector<gid_t> groups(64);
      socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
      if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0)
        groups.resize(glen / sizeof(gid_t));
      else
        groups.clear();
      Connection& ref = *c;
      connections.emplace(fd, std::move(c));
      if (connections.size() > config.daemon.max_connections) {
        reply_and_close(ref, err_reply(Errc::busy, "too many connections: try again shortly"));
        continue;
      }
      if (!authorised(kind, ref.peer, groups)) {
        Error e(Errc::refused,
                "uid " + std::to_string(ref.peer.uid) + " may not use the " +
                           (kind == SocketKind::admin ? "admin socket: add it to [daemon] admin_uids"
                                                      : "sign socket: add it to [daemon] sign_uids or sign_gids"));
        audit_refusal(ref.peer, e, "(connection)");
        reply_and_close(ref, err_reply(e.code(), e.what()));
      }
    }
  }

  enum class Next { need_more, again, gone };

  // Handles the first complete request in the buffer. `again` when another may follow,
  // `need_more` when the buffer holds no complete request, `gone` once the connection is
  // closed or handed to a worker.
  Next process(Connection& c) {
    char* begin = c.buffer.data();
    char* nl = static_cast<char*>(std::memchr(begin, '\n', c.length));
    if (!nl) {
      if (c.length > kMaxRequestLine) {
        reply_and_close(c, err_reply(Errc::bad_request, "request longer than 1024 bytes"));
        return Next::gone;
      }
      return Next::need_more;
    }
    std::string line(begin, static_cast<std::size_t>(nl - begin));
    std::size_t used = line.size() + 1;
    Request request;
    try {
      request = parse_request(line);
    } catch (const Error& e) {
      audit_refusal(c.peer, e, line);
      reply_and_close(c, err_reply(e.code(), e.what()));
      return Next::gone;
    }
    bool admin = c.kind == SocketKind::admin;
    bool allowed = request.kind == Request::Kind::status || request.kind == Request::Kind::ping ||
                   (admin ? request.kind == Request::Kind::unlock || request.kind == Request::Kind::lock
                          : request.kind == Request::Kind::sign || request.kind == Request::Kind::signpkg);
    if (!allowed) {
      Error e(Errc::refused, admin ? "the admin socket takes UNLOCK, LOCK and STATUS"
                                   : "UNLOCK and LOCK are accepted on the admin socket only");
      audit_refusal(c.peer, e, line);
      reply_and_close(c, err_reply(e.code(), e.what()));
      return Next::gone;
    }
    Job job;
    job.fd = c.fd;
    job.peer = c.peer;
    if (request.kind == Request::Kind::unlock) {
      // The PIN follows on the next line (empty for a PIN pad). It goes straight into a
      // wiped buffer; it is never parsed, logged or echoed.
      char* pin_begin = nl + 1;
      std::size_t rest = c.length - used;
      char* pin_end = static_cast<char*>(std::memchr(pin_begin, '\n', rest));
      if (!pin_end) {
        if (rest > kMaxPinLine) {
          c.consume(c.length);
          reply_and_close(c, err_reply(Errc::bad_request, "PIN line longer than 255 bytes"));
          return Next::gone;
        }
        return Next::need_more;
      }
      try {
        for (char* p = pin_begin; p < pin_end; ++p) job.pin.push_back(*p);
      } catch (const Error& e) {
        c.consume(c.length);
        reply_and_close(c, err_reply(Errc::bad_request, e.what()));
        return Next::gone;
      }
      used += static_cast<std::size_t>(pin_end - pin_begin) + 1;
    }
    c.consume(used);
    switch (request.kind) {
      case Request::Kind::ping:
        return reply_inline(c, ok_reply("PONG\n"));
      case Request::Kind::status:
        return reply_inline(c, ok_reply(service.status() + "\n"));
      case Request::Kind::lock:
        return reply_inline(c, render_reply(service.lock(request.lock_reason, c.peer)));
      default:
        break;
    }
    job.request = std::move(request);
    c.busy = true;
    submit(std::move(job));
    return Next::gone;
  }

  Next reply_inline(Connection& c, const std::string& reply) {
    if (!send_all(c.fd, reply, std::chrono::milliseconds(100))) {
      close_connection(c.fd);
      return Next::gone;
    }
    c.deadline = Clock::now() + timeout();
    return Next::again;
  }

  void process_all(Connection& c) {
    while (process(c) == Next::again) {
    }
  }

  // Serves every complete request buffered on `fd`; a connection whose peer has stopped
  // sending is closed once nothing more can come of it.
  void settle(int fd) {
    auto it = connections.find(fd);
    if (it == connections.end()) return;
    process_all(*it->second);
    it = connections.find(fd);
    if (it != connections.end() && it->second->eof && !it->second->busy) close_connection(fd);
  }

  void read_from(Connection& c) {
    for (;;) {
      if (c.length == c.buffer.size()) {
        c.consume(c.length);
        reply_and_close(c, err_reply(Errc::bad_request, "request longer than 1024 bytes"));
        return;
      }
      ssize_t n = ::recv(c.fd, c.buffer.data() + c.length, c.buffer.size() - c.length, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0) {  // the peer is gone
        close_connection(c.fd);
        return;
      }
      if (n == 0) {  // the peer shut down its sending side: answer what it sent, then close
        c.eof = true;
        break;
      }
      c.length += static_cast<std::size_t>(n);
    }
    settle(c.fd);
  }

  void finish_jobs() {
    std::vector<Done> finished;
    {
      std::lock_guard lock(done_mutex);
      finished.swap(done);
    }
    for (const Done& d : finished) {
      auto it = connections.find(d.fd);
      if (it == connections.end()) continue;
      if (!d.keep_open) {
        close_connection(d.fd);
        continue;
      }
      Connection& c = *it->second;
      c.busy = false;
      c.deadline = Clock::now() + timeout();
      // A request sent before the reply arrived is served now.
      settle(d.fd);
    }
  }

  void expire_connections() {
    auto now = Clock::now();
    std::vector<int> late;
    for (const auto& [fd, c] : connections)
      if (!c->busy && now >= c->deadline) late.push_back(fd);
    for (int fd : late) reply_and_close(*connections.at(fd), err_reply(Errc::bad_request, "request timed out"));
  }

  void run(const std::function<void()>& tick) {
    auto next_tick = Clock::now();
    std::vector<pollfd> fds;
    std::vector<int> ready;
    while (!stopping.load()) {
      fds.clear();
      fds.push_back({wake.get(), POLLIN, 0});
      if (sign_listen) fds.push_back({sign_listen.get(), POLLIN, 0});
      if (admin_listen) fds.push_back({admin_listen.get(), POLLIN, 0});
      std::size_t first_connection = fds.size();
      for (const auto& [fd, c] : connections)
        if (!c->busy && !c->eof) fds.push_back({fd, POLLIN, 0});
      int rc = ::poll(fds.data(), fds.size(), 250);
      if (rc < 0 && errno != EINTR) throw Error(Errc::internal, std::string("poll failed: ") + std::strerror(errno));
      if (fds[0].revents) {
        std::uint64_t n;
        (void)!::read(wake.get(), &n, sizeof n);
        finish_jobs();
      }
      for (std::size_t i = 1; i < first_connection; ++i)
        if (fds[i].revents & POLLIN)
          accept_all(fds[i].fd, fds[i].fd == admin_listen.get() ? SocketKind::admin : SocketKind::sign);
      ready.clear();
      for (std::size_t i = first_connection; i < fds.size(); ++i)
        if (fds[i].revents) ready.push_back(fds[i].fd);
      for (int fd : ready) {
        auto it = connections.find(fd);
        if (it != connections.end() && !it->second->busy) read_from(*it->second);
      }
      expire_connections();
      if (Clock::now() >= next_tick) {
        next_tick = Clock::now() + std::chrono::seconds(1);
        tick();
      }
    }
  }
};

Server::Server(const Config& config, SigningService& service, ActivatedSockets activated)
    : impl_(std::make_unique<Impl>(config, service)) {
  impl_->sign_listen = activated.sign >= 0 ? adopt(activated.sign) : listen_at(config.daemon.socket, 0660);
  impl_->admin_listen = activated.admin >= 0 ? adopt(activated.admin) : listen_at(config.daemon.admin_socket, 0600);
  impl_->wake = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!impl_->wake) fail(std::string("cannot create an eventfd: ") + std::strerror(errno));
  // Enough workers that every token session can be busy while an UNLOCK still gets through.
  unsigned workers = config.token.sessions + 2;
  for (unsigned i = 0; i < workers; ++i) impl_->workers.emplace_back([this] { impl_->worker_loop(); });
  impl_->refusal_auditor = std::thread([this] { impl_->refusal_loop(); });
}

Server::~Server() {
  {
    std::lock_guard lock(impl_->jobs_mutex);
    impl_->workers_stop = true;
  }
  impl_->jobs_cv.notify_all();
  for (std::thread& t : impl_->workers) t.join();
  {
    std::lock_guard lock(impl_->refusals_mutex);
    impl_->refusals_stop = true;
  }
  impl_->refusals_cv.notify_all();
  impl_->refusal_auditor.join();
  for (auto& [fd, c] : impl_->connections) ::close(fd);
}

void Server::run(const std::function<void()>& tick) { impl_->run(tick); }

void Server::stop() noexcept {
  impl_->stopping.store(true);
  impl_->poke();
}

}  // namespace catsign::daemon
