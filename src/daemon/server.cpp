// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
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
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "catsign/util/file.hpp"
#include "catsign/util/secure_string.hpp"

namespace catsign::daemon {

namespace {

using Clock = std::chrono::steady_clock;

enum class SocketKind { sign, admin };

const char* socket_name(SocketKind kind) { return kind == SocketKind::admin ? "admin" : "sign"; }

constexpr std::size_t kMaxPinLine = 256;
// Room for the longest request, its LF, and on the admin socket a PIN line after UNLOCK.
constexpr std::size_t kBufferSize = kMaxRequestLine + 1 + kMaxPinLine + 1;
// The admin socket's connections, apart from max_connections: however many connections the
// sign socket holds, the trusted person's `catsign lock` and udev's lock on token removal get in.
constexpr std::size_t kAdminConnections = 16;
// Reads from one connection per turn of the event loop, so a peer that pipelines without end
// can't keep the event thread to itself.
constexpr int kReadsPerTurn = 8;
// How long a refused peer has to take its ERR line before the connection is closed anyway.
constexpr auto kCloseGrace = std::chrono::seconds(1);
// A full socket is logged at most this often, with the count turned away in between.
constexpr auto kBusyLogEvery = std::chrono::seconds(10);
// Replies waiting for slow readers may hold at least this much memory before new signing waits.
constexpr std::size_t kMinOutputBudget = std::size_t{64} << 20;

struct Connection {
  std::uint64_t id = 0;  // unique for the server's life: a worker's reply finds its connection
  int fd = -1;
  SocketKind kind = SocketKind::sign;
  Peer peer;
  std::array<char, kBufferSize> buffer{};
  std::size_t length = 0;
  // While the connection waits for a request, when it counts as idle and is cut off: set by
  // the accept and by every request that does work (SIGN, SIGNPKG, UNLOCK, LOCK), never by
  // PING or STATUS, so a peer that only asks those holds its slot for request_timeout at most.
  // While a reply waits for the peer to take it, when the peer is dropped instead.
  Clock::time_point deadline;
  bool busy = false;     // a worker has the request; no deadline runs ([token] sign_timeout does)
  bool waiting = false;  // a SIGN in line for a worker, or until slow readers take their replies
  bool eof = false;      // the peer has finished sending (it may still read our replies)
  bool closing = false;  // refused: closed once `out` is written, or at the deadline
  std::string out;       // reply bytes the peer has not taken yet, from out_sent on
  std::size_t out_sent = 0;

  // The buffer may have held a PIN: wipe it before the memory is reused.
  ~Connection() { secure_wipe(buffer.data(), buffer.size()); }

  void consume(std::size_t n) {
    std::memmove(buffer.data(), buffer.data() + n, length - n);
    secure_wipe(buffer.data() + (length - n), n);
    length -= n;
  }
  std::size_t unsent() const { return out.size() - out_sent; }
};

struct Job {
  std::uint64_t id = 0;
  int fd = -1;  // only to find the connection again; workers never touch it
  Peer peer;
  Request request;
  SecureString pin;  // UNLOCK only
};

struct Done {
  std::uint64_t id;
  int fd;
  bool signing;  // SIGN or SIGNPKG: counted against the workers
  std::string reply;
};

[[noreturn]] void fail(const std::string& what) { throw Error(Errc::usage, what); }

// A listening socket. When the server made the socket file itself, the file goes with it,
// unless something else has been put at the path since.
class Listener {
 public:
  Listener() = default;
  explicit Listener(UniqueFd fd, std::string path = {}) : fd_(std::move(fd)), path_(std::move(path)) {
    struct stat st {};
    if (!path_.empty() && ::lstat(path_.c_str(), &st) == 0) {
      dev_ = st.st_dev;
      ino_ = st.st_ino;
    }
  }
  Listener(Listener&& o) noexcept { *this = std::move(o); }
  Listener& operator=(Listener&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = std::move(o.fd_);
      path_ = std::exchange(o.path_, std::string());
      dev_ = o.dev_;
      ino_ = o.ino_;
    }
    return *this;
  }
  ~Listener() { close(); }

  int fd() const noexcept { return fd_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(fd_); }

  // Stops listening and removes the socket file, so clients learn at once that nobody is there.
  void close() noexcept {
    if (!path_.empty()) {
      struct stat st {};
      if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev_ && st.st_ino == ino_)
        ::unlink(path_.c_str());
      path_.clear();
    }
    fd_.reset();
  }

 private:
  UniqueFd fd_;
  std::string path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

// Who answers on the socket file at `addr`: nothing (a stale file from an earlier run, or none
// at all), or a live listener, which is asked for a PING and described for the refusal.
std::optional<std::string> live_listener(const std::string& p, const sockaddr_un& addr) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) fail(std::string("cannot create a socket: ") + std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    if (err == ECONNREFUSED || err == ENOENT) return std::nullopt;
    // A listener whose backlog is full is alive all the same.
    if (err == EAGAIN) return "a process whose backlog is full (another catsignd, busy?)";
    fail("cannot tell whether a daemon still answers on " + p + " (" + std::strerror(err) +
         "): remove the file if none does, or configure another socket path");
  }
  // For a connection to a listening socket, the peer is whoever called listen().
  ucred cred{};
  socklen_t len = sizeof cred;
  pid_t pid = ::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : 0;
  std::string who = "pid " + std::to_string(pid);
  if (pid == 1) return "systemd (pid 1, socket activation: start catsignd through its socket units instead)";
  // Ask, briefly: a catsignd answers PING on both sockets (or refuses this peer, which is an
  // answer too).
  std::string reply;
  const std::string_view ping = "PING\n";
  if (::send(fd.get(), ping.data(), ping.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(ping.size())) {
    pollfd pfd{fd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 1000) > 0) {
      char buf[64];
      ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n > 0) reply.assign(buf, static_cast<std::size_t>(n));
    }
  }
  if (reply.rfind("OK ", 0) == 0 || reply.rfind("ERR ", 0) == 0) return "catsignd (" + who + ")";
  return "a process (" + who + ") that listens but does not answer like catsignd";
}

Listener listen_at(const std::filesystem::path& path, mode_t mode) {
  std::string p = path.string();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (p.size() >= sizeof addr.sun_path) fail("socket path " + p + " is too long for a Unix socket");
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  // Two daemons starting at once take turns: the check and the bind are one step for each.
  std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  UniqueFd dir_lock(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_lock) ::flock(dir_lock.get(), LOCK_EX);
  struct stat st {};
  if (::lstat(p.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) fail(p + " exists and is not a socket: remove it or configure another socket path");
    // Replacing a live daemon's socket would leave it running, unlocked perhaps, and unreachable.
    if (std::optional<std::string> who = live_listener(p, addr))
      fail("cannot listen on " + p + ": " + *who + " already answers there; stop it first, or give this "
           "catsignd other [daemon] socket and admin_socket paths");
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
  Listener listener(std::move(fd), p);
  if (::chmod(p.c_str(), mode) != 0) fail("cannot set the mode of " + p + ": " + std::strerror(errno));
  if (::listen(listener.fd(), 128) != 0) fail("cannot listen on " + p + ": " + std::strerror(errno));
  return listener;
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
  LiveConfig& live;  // allow-lists, limits and timeouts follow a reload
  SigningService& service;
  Listener sign_listen;
  Listener admin_listen;
  UniqueFd wake;
  std::atomic<bool> stopping{false};
  uid_t own_uid = ::getuid();
  std::unordered_map<int, std::unique_ptr<Connection>> connections;
  std::uint64_t next_id = 0;
  std::array<std::size_t, 2> open{};         // connections per socket kind
  std::array<std::uint64_t, 2> turned_away{};  // BUSY since the last log line, per socket kind
  std::array<Clock::time_point, 2> busy_logged{};
  std::size_t unsent_total = 0;   // reply bytes all peers together have not taken yet
  std::size_t output_budget = 0;  // past it, new SIGNs wait for readers to catch up
  // SIGN and SIGNPKG go to a worker only when one is free, in the order they came: a reply is
  // made only when it can be held, and no queue of jobs grows behind the workers' backs.
  std::size_t signing_slots = 0;  // the workers but one, which is always free for an UNLOCK
  std::size_t signing_jobs = 0;   // handed to workers, reply not back yet
  std::deque<std::pair<int, std::uint64_t>> in_line;  // waiting connections, first come first
  std::uint64_t resuming = 0;    // the connection whose turn it is now
  std::vector<std::pair<int, std::function<void()>>> watches;

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

  Impl(LiveConfig& c, SigningService& s) : live(c), service(s) {}

  std::chrono::milliseconds timeout() const { return live.get()->daemon.request_timeout; }

  void poke() noexcept {
    std::uint64_t one = 1;
    (void)!::write(wake.get(), &one, sizeof one);
  }

  // ---- workers: the slow requests. They compute the reply; the event thread sends it. ----
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
      Done d{job.id, job.fd, job.request.kind != Request::Kind::unlock, {}};
      if (job.request.kind == Request::Kind::unlock) {
        d.reply = render_reply(service.unlock(job.pin, job.peer));
        job.pin.clear();
      } else {
        d.reply = render_reply(service.handle(job.request, job.peer));
      }
      {
        std::lock_guard lock(done_mutex);
        done.push_back(std::move(d));
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
  Connection* find(int fd, std::uint64_t id = 0) {
    auto it = connections.find(fd);
    if (it == connections.end() || (id != 0 && it->second->id != id)) return nullptr;
    return it->second.get();
  }

  void close_connection(int fd) {
    auto it = connections.find(fd);
    if (it == connections.end()) return;
    Connection& c = *it->second;
    unsent_total -= c.unsent();
    --open[static_cast<std::size_t>(c.kind)];
    ::close(fd);
    connections.erase(it);
  }

  // Writes what the peer takes now, without waiting. False when the connection is gone: the
  // peer went away, or a refused connection has had its say.
  bool flush(Connection& c) {
    while (c.unsent() > 0) {
      ssize_t n = ::send(c.fd, c.out.data() + c.out_sent, c.unsent(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.out_sent += static_cast<std::size_t>(n);
        unsent_total -= static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      close_connection(c.fd);
      return false;
    }
    std::string().swap(c.out);  // a large reply's memory goes as soon as it is taken
    c.out_sent = 0;
    if (c.closing) {
      close_connection(c.fd);
      return false;
    }
    return true;
  }

  // Queues `reply` behind whatever the peer has not taken yet and writes what it takes now.
  bool send_reply(Connection& c, std::string reply) {
    unsent_total += reply.size();
    if (c.unsent() == 0) {
      c.out = std::move(reply);
      c.out_sent = 0;
    } else {
      c.out.erase(0, c.out_sent);
      c.out_sent = 0;
      c.out += reply;
    }
    return flush(c);
  }

  // Refuses and ends the connection; `audited` (when not empty) is what the audit record
  // calls the request. The ERR line goes out if the peer takes it within kCloseGrace.
  void refuse(Connection& c, const Error& e, const std::string& audited) {
    if (!audited.empty()) audit_refusal(c.peer, e, audited);
    c.consume(c.length);  // nothing more is read, and a PIN in there is wiped now
    c.closing = true;
    c.deadline = Clock::now() + kCloseGrace;
    send_reply(c, err_reply(e.code(), e.what()));
  }

  bool authorised(SocketKind kind, const Peer& peer, const std::vector<gid_t>& groups) const {
    if (peer.uid == own_uid) return true;
    const auto config = live.get();
    if (kind == SocketKind::admin) return contains(config->daemon.admin_uids, peer.uid);
    if (contains(config->daemon.sign_uids, peer.uid) || contains(config->daemon.sign_gids, peer.gid)) return true;
    for (gid_t g : groups)
      if (contains(config->daemon.sign_gids, g)) return true;
    return false;
  }

  std::size_t limit_of(SocketKind kind) const {
    return kind == SocketKind::admin ? kAdminConnections : live.get()->daemon.max_connections;
  }

  // A full socket is worth a line in the log (an attack, or max_connections set too low), but
  // not one per connection turned away.
  void note_busy(SocketKind kind) {
    auto k = static_cast<std::size_t>(kind);
    ++turned_away[k];
    auto now = Clock::now();
    if (busy_logged[k] != Clock::time_point{} && now - busy_logged[k] < kBusyLogEvery) return;
    spdlog::warn("the {} socket is full ({} connections open): turned {} connection(s) away with BUSY{}",
                 socket_name(kind), open[k], turned_away[k],
                 busy_logged[k] == Clock::time_point{} ? "" : " since the last report");
    busy_logged[k] = now;
    turned_away[k] = 0;
  }

  Clock::time_point held_back_logged{};

  void note_held_back() {
    auto now = Clock::now();
    if (held_back_logged != Clock::time_point{} && now - held_back_logged < kBusyLogEvery) return;
    held_back_logged = now;
    spdlog::warn("replies that clients have not taken hold {} MiB, over the budget of {} MiB: new signing waits "
                 "until they are taken or their readers are dropped after request_timeout",
                 unsent_total >> 20, output_budget >> 20);
  }

  void accept_all(int listen_fd, SocketKind kind) {
    for (;;) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) spdlog::warn("accept failed: {}", std::strerror(errno));
        return;
      }
      if (open[static_cast<std::size_t>(kind)] >= limit_of(kind)) {
        // A fresh connection's send buffer is empty: the one short line always fits.
        std::string busy = err_reply(Errc::busy, std::string("too many connections on the ") + socket_name(kind) +
                                                          " socket: try again shortly");
        (void)!::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::close(fd);
        note_busy(kind);
        continue;
      }
      ucred cred{};
      socklen_t len = sizeof cred;
      if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        ::close(fd);
        continue;
      }
      auto c = std::make_unique<Connection>();
      c->id = ++next_id;
      c->fd = fd;
      c->kind = kind;
      c->deadline = Clock::now() + timeout();
      c->peer = {cred.pid, cred.uid, cred.gid};
      std::vector<gid_t> groups(64);
      socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
      if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0)
        groups.resize(glen / sizeof(gid_t));
      else
        groups.clear();
      Connection& ref = *c;
      connections.emplace(fd, std::move(c));
      ++open[static_cast<std::size_t>(kind)];
      if (!authorised(kind, ref.peer, groups)) {
        Error e(Errc::refused,
                "uid " + std::to_string(ref.peer.uid) + " may not use the " +
                    (kind == SocketKind::admin ? "admin socket: add it to [daemon] admin_uids"
                                               : "sign socket: add it to [daemon] sign_uids or sign_gids"));
        refuse(ref, e, "(connection)");
      }
    }
  }

  enum class Next {
    more,  // a request was served; another may follow
    idle,  // no whole request in the buffer
    held,  // a worker has it, a SIGN waits in line, or a reply waits for the peer to take it
    gone,  // closed
  };

  // Serves the first whole request in the buffer. Replies go out in order: while the peer has
  // not taken one, the next request waits.
  Next process(Connection& c) {
    if (c.busy || c.waiting || c.closing || c.unsent() > 0) return Next::held;
    char* begin = c.buffer.data();
    char* nl = static_cast<char*>(std::memchr(begin, '\n', c.length));
    if (!nl) {
      // The limit is per line: a line that can't end within it is refused, however it came.
      if (c.length > kMaxRequestLine) {
        Error e(Errc::bad_request, "request longer than 1024 bytes: send one request per line, each at most 1024 bytes");
        refuse(c, e, std::string(begin, std::min<std::size_t>(c.length, 100)));
        return Next::gone;
      }
      return Next::idle;
    }
    std::string line(begin, static_cast<std::size_t>(nl - begin));
    std::size_t used = line.size() + 1;
    Request request;
    try {
      request = parse_request(line);
    } catch (const Error& e) {
      refuse(c, e, line);
      return Next::gone;
    }
    bool admin = c.kind == SocketKind::admin;
    bool allowed = request.kind == Request::Kind::status || request.kind == Request::Kind::ping ||
                   (admin ? request.kind == Request::Kind::unlock || request.kind == Request::Kind::lock
                          : request.kind == Request::Kind::sign || request.kind == Request::Kind::signpkg);
    if (!allowed) {
      Error e(Errc::refused, admin ? "the admin socket takes UNLOCK, LOCK and STATUS"
                                   : "UNLOCK and LOCK are accepted on the admin socket only");
      refuse(c, e, line);
      return Next::gone;
    }
    // A SIGN waits in line (its request stays buffered) while every worker is busy, and while
    // replies that readers have not taken hold more memory than the budget: then signing more
    // waits until they take them or are dropped at their deadline.
    bool signs = request.kind == Request::Kind::sign || request.kind == Request::Kind::signpkg;
    if (signs && (signing_jobs >= signing_slots || unsent_total > output_budget ||
                  (!in_line.empty() && resuming != c.id))) {
      c.waiting = true;
      in_line.emplace_back(c.fd, c.id);
      return Next::held;
    }
    Job job;
    job.id = c.id;
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
          refuse(c, Error(Errc::bad_request, "PIN line longer than 255 bytes"), "UNLOCK");
          return Next::gone;
        }
        return Next::idle;
      }
      try {
        for (char* p = pin_begin; p < pin_end; ++p) job.pin.push_back(*p);
      } catch (const Error& e) {
        refuse(c, Error(Errc::bad_request, e.what()), "UNLOCK");
        return Next::gone;
      }
      used += static_cast<std::size_t>(pin_end - pin_begin) + 1;
    }
    c.consume(used);
    switch (request.kind) {
      case Request::Kind::ping:
        return answer(c, ok_reply("PONG\n"));
      case Request::Kind::status:
        return answer(c, ok_reply(service.status() + "\n"));
      case Request::Kind::lock:
        c.deadline = Clock::now() + timeout();
        return answer(c, render_reply(service.lock(request.lock_reason, c.peer)));
      default:
        break;
    }
    job.request = std::move(request);
    c.busy = true;
    if (signs) ++signing_jobs;
    submit(std::move(job));
    return Next::held;
  }

  Next answer(Connection& c, std::string reply) {
    if (!send_reply(c, std::move(reply))) return Next::gone;
    return c.unsent() > 0 ? Next::held : Next::more;
  }

  // Serves every whole request buffered on `fd` that can be served now; a connection whose
  // peer has stopped sending is closed once nothing more can come of it.
  void settle(int fd) {
    Connection* c = find(fd);
    if (!c) return;
    Next n;
    while ((n = process(*c)) == Next::more) {
    }
    if (n == Next::idle && c->eof) close_connection(fd);
  }

  void read_from(int fd) {
    for (int turn = 0; turn < kReadsPerTurn; ++turn) {
      Connection* c = find(fd);
      if (!c || c->busy || c->waiting || c->closing || c->eof || c->unsent() > 0) return;
      if (c->length == c->buffer.size()) {  // cannot happen: process() serves or refuses a full buffer
        refuse(*c, Error(Errc::bad_request, "request longer than 1024 bytes"), "(buffer full)");
        return;
      }
      ssize_t n = ::recv(fd, c->buffer.data() + c->length, c->buffer.size() - c->length, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0) {  // the peer is gone
        close_connection(fd);
        return;
      }
      if (n == 0)  // the peer shut down its sending side: answer what it sent, then close
        c->eof = true;
      else
        c->length += static_cast<std::size_t>(n);
      // Whole lines are served as they arrive, so the buffer bounds a line, not a write.
      settle(fd);
    }
  }

  // The peer can take more of its reply; once all is taken, the next request is served.
  void write_to(int fd) {
    Connection* c = find(fd);
    if (!c || !flush(*c)) return;
    if (c->unsent() == 0) settle(fd);
  }

  void finish_jobs() {
    std::vector<Done> finished;
    {
      std::lock_guard lock(done_mutex);
      finished.swap(done);
    }
    for (Done& d : finished) {
      if (d.signing) --signing_jobs;
      Connection* found = find(d.fd, d.id);
      if (!found) continue;
      int fd = d.fd;
      Connection& c = *found;
      c.busy = false;
      // The reply must be taken within request_timeout; the next request then has as long.
      c.deadline = Clock::now() + timeout();
      if (!send_reply(c, std::move(d.reply))) continue;
      // A request sent before the reply arrived is served now.
      if (c.unsent() == 0) settle(fd);
    }
  }

  // SIGNs in line go on, in order, as workers come free and readers catch up.
  void resume_waiting() {
    if (!in_line.empty() && unsent_total > output_budget) note_held_back();
    while (!in_line.empty() && signing_jobs < signing_slots && unsent_total <= output_budget) {
      auto [fd, id] = in_line.front();
      in_line.pop_front();
      Connection* c = find(fd, id);
      if (!c || !c->waiting) continue;
      c->waiting = false;
      resuming = id;
      settle(fd);
      resuming = 0;
    }
  }

  void expire_connections() {
    auto now = Clock::now();
    std::vector<int> late;
    for (const auto& [fd, c] : connections)
      if (!c->busy && !c->waiting && now >= c->deadline) late.push_back(fd);
    for (int fd : late) {
      Connection* c = find(fd);
      if (!c) continue;
      if (c->closing || c->unsent() > 0) {  // it does not take its replies: nothing to say
        close_connection(fd);
        continue;
      }
      Error e(Errc::bad_request, "request timed out: send a whole request line within request_timeout (" +
                                     std::to_string(timeout().count() / 1000) +
                                     "s); PING and STATUS alone do not keep a connection open");
      refuse(*c, e, "(no request within request_timeout)");
    }
  }

  void run(const std::function<void()>& tick) {
    auto next_tick = Clock::now();
    std::vector<pollfd> fds;
    std::vector<std::uint64_t> ids;
    while (!stopping.load()) {
      fds.clear();
      ids.clear();
      fds.push_back({wake.get(), POLLIN, 0});
      if (sign_listen) fds.push_back({sign_listen.fd(), POLLIN, 0});
      if (admin_listen) fds.push_back({admin_listen.fd(), POLLIN, 0});
      std::size_t first_watch = fds.size();
      for (const auto& w : watches) fds.push_back({w.first, POLLIN, 0});
      std::size_t first_connection = fds.size();
      for (const auto& [fd, c] : connections) {
        // Busy and waiting connections are not polled: a hangup would be reported again and
        // again, and they are dealt with when their turn comes.
        if (c->busy || c->waiting) continue;
        if (c->unsent() > 0)
          fds.push_back({fd, POLLOUT, 0});
        else if (!c->eof && !c->closing)
          fds.push_back({fd, POLLIN, 0});
        else
          continue;
        ids.push_back(c->id);
      }
      int rc = ::poll(fds.data(), fds.size(), 250);
      if (rc < 0 && errno != EINTR) throw Error(Errc::internal, std::string("poll failed: ") + std::strerror(errno));
      if (rc > 0) {
        if (fds[0].revents) {
          std::uint64_t n;
          (void)!::read(wake.get(), &n, sizeof n);
          finish_jobs();
        }
        for (std::size_t i = 1; i < first_watch; ++i)
          if (fds[i].revents & POLLIN)
            accept_all(fds[i].fd, fds[i].fd == admin_listen.fd() ? SocketKind::admin : SocketKind::sign);
        for (std::size_t i = first_watch; i < first_connection; ++i)
          if (fds[i].revents) watches[i - first_watch].second();
        for (std::size_t i = first_connection; i < fds.size(); ++i) {
          if (!fds[i].revents) continue;
          // The same descriptor may belong to a newer connection by now.
          Connection* c = find(fds[i].fd, ids[i - first_connection]);
          if (!c) continue;
          if (c->unsent() > 0)
            write_to(fds[i].fd);
          else
            read_from(fds[i].fd);
        }
      }
      resume_waiting();
      expire_connections();
      if (Clock::now() >= next_tick) {
        next_tick = Clock::now() + std::chrono::seconds(1);
        tick();
      }
    }
    // Nobody is served any more: the socket files go now, so clients learn it at once.
    sign_listen.close();
    admin_listen.close();
  }
};

Server::Server(LiveConfig& live, SigningService& service, ActivatedSockets activated)
    : impl_(std::make_unique<Impl>(live, service)) {
  // Socket paths, worker counts and budgets are fixed at start; a reload that changes them is
  // refused (reload.cpp).
  const auto config_now = live.get();
  const Config& config = *config_now;
  impl_->sign_listen =
      activated.sign >= 0 ? Listener(adopt(activated.sign)) : listen_at(config.daemon.socket, 0660);
  impl_->admin_listen =
      activated.admin >= 0 ? Listener(adopt(activated.admin)) : listen_at(config.daemon.admin_socket, 0600);
  impl_->wake = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!impl_->wake) fail(std::string("cannot create an eventfd: ") + std::strerror(errno));
  // Enough workers that every token session can be busy, one more can hash the next catalog,
  // and an UNLOCK still gets through.
  unsigned workers = config.token.sessions + 2;
  impl_->signing_slots = workers - 1;
  // As much memory as the workers could hold in replies before they stopped writing them.
  impl_->output_budget = std::max<std::size_t>(kMinOutputBudget, workers * config.catalogs.max_size);
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

void Server::watch(int fd, std::function<void()> ready) { impl_->watches.emplace_back(fd, std::move(ready)); }

void Server::run(const std::function<void()>& tick) { impl_->run(tick); }

void Server::stop() noexcept {
  impl_->stopping.store(true);
  impl_->poke();
}

}  // namespace catsign::daemon
