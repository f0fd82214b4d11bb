// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/http_front.hpp"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "catsign/daemon/http_route.hpp"
#include "catsign/daemon/metrics.hpp"
#include "catsign/util/address.hpp"
#include "catsign/util/file.hpp"
#include "catsign/util/quote.hpp"
#include "catsign/util/secure_string.hpp"

namespace catsign::daemon {

namespace {

using Clock = std::chrono::steady_clock;

// Per connection, libmicrohttpd's memory pool holds the request line and headers: this caps
// both (a larger request gets 431 or 414 from the library) and bounds what 1,000 idle peers
// can cost.
constexpr std::size_t kConnectionMemory = 16 * 1024;
// The endpoints take no body; a client may send one (old scripts POST the catalog), which is
// read and ignored up to this much.
constexpr std::size_t kMaxBody = 64 * 1024;
// Requests waiting for a worker; past this, 503 at once rather than an unbounded queue.
constexpr std::size_t kMaxQueued = 256;
// Refusals at accept waiting to be audited; past this they are counted, not recorded one by one.
constexpr std::size_t kMaxPendingAudits = 64;
constexpr unsigned kEventThreads = 4;
// Modern TLS only (RFC 8996 deprecates TLS 1.0 and 1.1).
constexpr const char* kTlsPriorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

[[noreturn]] void fail(const std::string& what) { throw Error(Errc::usage, what); }

std::string read_pem(const std::filesystem::path& path, const char* what) {
  try {
    Bytes b = read_file(path, 1 << 20);
    std::string s(b.begin(), b.end());
    secure_wipe(b.data(), b.size());
    return s;
  } catch (const Error& e) {
    fail(std::string("[http] ") + what + ": " + e.what());
  }
}

UniqueFd listen_on(const std::string& text) {
  SocketAddress a = parse_listen_address(text);
  UniqueFd fd(::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) fail("[http] listen " + text + ": cannot create a socket: " + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (a.family() == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd.get(), a.get(), a.length) != 0)
    fail("[http] listen " + text + ": cannot bind: " + std::strerror(errno) + " (is another process on that port?)");
  if (::listen(fd.get(), 1024) != 0) fail("[http] listen " + text + ": cannot listen: " + std::strerror(errno));
  return fd;
}

// libmicrohttpd's messages go to the debug log: what a hostile peer did is not an operator's
// business, and the library names no peer anyway.
void mhd_log(void*, const char* format, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, format, ap);
  std::size_t n = std::strlen(buf);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
  spdlog::debug("http: {}", buf);
}

// The path and query arrive undecoded (daemon/http_route.hpp decides what an escape may
// spell): this unescaper leaves every byte where it is.
size_t keep_escaped(void*, MHD_Connection*, char* s) { return std::strlen(s); }

const char* content_type(HttpRoute::Kind kind, signing::Form form) {
  switch (kind) {
    case HttpRoute::Kind::status: return "application/json";
    case HttpRoute::Kind::metrics: return "text/plain; version=0.0.4; charset=utf-8";
    case HttpRoute::Kind::sign: break;
  }
  switch (form) {
    case signing::Form::detached_armored: return "application/pgp-signature";  // RFC 3156 §5
    case signing::Form::detached_binary: return "application/octet-stream";
    case signing::Form::cleartext: return "text/plain; charset=utf-8";
  }
  return "application/octet-stream";
}

// One request, from its headers to its reply.
struct Exchange {
  enum class State { reading, working, done };
  State state = State::reading;
  MHD_Connection* connection = nullptr;
  std::size_t body = 0;
  bool json = false;
  Peer peer;
  std::string method, path, query;
  std::optional<Error> refusal;  // decided on the event thread (certificate, body)
  HttpRoute::Kind kind = HttpRoute::Kind::sign;
  signing::Form form = signing::Form::detached_armored;
  Outcome outcome;
};

// What the sweeper knows of a connection: when its current request began.
struct Track {
  int fd = -1;
  Clock::time_point since;
  bool in_request = false;  // headers complete: the deadline no longer applies
  bool shut = false;
};

// Text from a certificate, for a log line and an audit record: printable ASCII, cut short.
std::string printable(std::string_view text, std::size_t max = 200) {
  std::string out(text.substr(0, max));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  return out;
}

MHD_Result collect_query(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* q = static_cast<std::string*>(cls);
  if (!q->empty()) *q += '&';
  *q += key ? key : "";
  if (value) *q += std::string("=") + value;
  return MHD_YES;
}

}  // namespace

struct HttpFront::Impl {
  const Config& config;
  SigningService& service;
  std::vector<AddressRange> allow;
  std::vector<MHD_Daemon*> daemons;
  std::vector<std::string> names;

  std::mutex jobs_mutex;
  std::condition_variable jobs_cv;
  std::deque<std::function<void()>> jobs;
  bool workers_stop = false;
  std::vector<std::thread> workers;
  std::atomic<std::size_t> pending_audits{0};
  std::atomic<std::uint64_t> refused_at_accept{0};

  std::mutex tracks_mutex;
  std::unordered_map<MHD_Connection*, Track> tracks;
  std::mutex sweeper_mutex;
  std::condition_variable sweeper_cv;
  bool sweeper_stop = false;
  std::thread sweeper;

  Impl(const Config& c, SigningService& s) : config(c), service(s) {
    for (const std::string& a : c.http.allow) allow.push_back(AddressRange::parse(a));
  }

  // ---- workers ----
  bool submit(std::function<void()> job, std::size_t limit) {
    {
      std::lock_guard lock(jobs_mutex);
      if (jobs.size() >= limit || workers_stop) return false;
      jobs.push_back(std::move(job));
    }
    jobs_cv.notify_one();
    return true;
  }

  void worker_loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(jobs_mutex);
        jobs_cv.wait(lock, [&] { return workers_stop || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      job();
    }
  }

  // ---- who may connect: the allow-list, at accept, before a byte of TLS ----
  bool allowed(const sockaddr* a, socklen_t len) const {
    if (allow.empty()) return AddressRange::is_loopback(a, len);
    for (const AddressRange& r : allow)
      if (r.contains(a, len)) return true;
    return false;
  }

  static MHD_Result on_accept(void* cls, const sockaddr* addr, socklen_t len) {
    auto* self = static_cast<Impl*>(cls);
    if (self->allowed(addr, len)) return MHD_YES;
    std::uint64_t n = ++self->refused_at_accept;
    std::string who = format_address(addr, len);
    if ((n & (n - 1)) == 0)  // 1, 2, 4, 8...: a flood costs the log a few lines
      spdlog::warn("http: refused a connection from {}: not in [http] allow ({} so far)", who, n);
    if (self->pending_audits.load() < kMaxPendingAudits) {
      ++self->pending_audits;
      Peer peer;
      peer.address = who;
      bool queued = self->submit(
          [self, peer] {
            self->service.audit_refusal(
                peer, Error(Errc::refused, "address not in [http] allow: refused at accept"), "(connection)");
            --self->pending_audits;
          },
          kMaxQueued);
      if (!queued) --self->pending_audits;
    }
    return MHD_NO;
  }

  // ---- slow peers: a whole request within [daemon] request_timeout ----
  static void on_connection(void* cls, MHD_Connection* c, void**, MHD_ConnectionNotificationCode code) {
    auto* self = static_cast<Impl*>(cls);
    std::lock_guard lock(self->tracks_mutex);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
      self->tracks[c] = Track{info ? info->connect_fd : -1, Clock::now(), false, false};
    } else {
      // Called before the library closes the descriptor, so the sweeper never touches a
      // number that was reused.
      self->tracks.erase(c);
    }
  }

  void set_in_request(MHD_Connection* c, bool in_request) {
    std::lock_guard lock(tracks_mutex);
    auto it = tracks.find(c);
    if (it == tracks.end()) return;
    it->second.in_request = in_request;
    it->second.since = Clock::now();
  }

  // libmicrohttpd's own timeout is for idleness, which a peer sending a byte a second never
  // reaches; this gives every handshake and request a deadline from its first byte. A late
  // connection is shut down, not closed: the library notices and frees it on its own thread.
  void sweep_loop() {
    std::unique_lock lock(sweeper_mutex);
    std::size_t peak = 0;
    while (!sweeper_cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return sweeper_stop; })) {
      auto now = Clock::now();
      std::size_t open = 0;
      {
        std::lock_guard tl(tracks_mutex);
        open = tracks.size();
        for (auto& [c, t] : tracks)
          if (!t.in_request && !t.shut && t.fd >= 0 && now - t.since > config.daemon.request_timeout) {
            ::shutdown(t.fd, SHUT_RDWR);
            t.shut = true;
          }
      }
      // A crowd of connections leaves its TLS sessions and buffers in the allocator's arenas,
      // one per library thread; once it is gone, the memory goes back to the system.
      peak = std::max(peak, open);
      if (peak >= 64 && open < 8) {
        ::malloc_trim(0);
        peak = 0;
      }
    }
  }

  static void on_completed(void* cls, MHD_Connection* c, void** con_cls, MHD_RequestTerminationCode) {
    auto* self = static_cast<Impl*>(cls);
    delete static_cast<Exchange*>(*con_cls);
    *con_cls = nullptr;
    self->set_in_request(c, false);  // a kept-alive connection's next request gets a new deadline
  }

  // ---- who may ask: the client certificate ----
  // Refuses (Error(refused)) a request without a certificate that verifies against
  // [http] client_ca, or whose CN and DNS names are all outside client_names. Returns the
  // certificate's subject (RFC 4514), empty when no client_ca is configured.
  std::string check_client(MHD_Connection* c) const {
    if (!config.http.tls) return "";
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!info || !info->tls_session) return "";
    auto session = static_cast<gnutls_session_t>(info->tls_session);
    unsigned count = 0;
    const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
    if (config.http.client_ca.empty()) return "";
    if (!chain || count == 0)
      throw Error(Errc::refused, "a client certificate issued by the CA in [http] client_ca is required");
    gnutls_x509_crt_t crt = nullptr;
    gnutls_x509_crt_init(&crt);
    std::unique_ptr<gnutls_x509_crt_int, void (*)(gnutls_x509_crt_t)> guard(crt, gnutls_x509_crt_deinit);
    std::string subject = "(unreadable)";
    if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) == 0) {
      gnutls_datum_t dn{};
      if (gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0) {
        subject = printable(std::string_view(reinterpret_cast<const char*>(dn.data), dn.size));
        gnutls_free(dn.data);
      }
    }
    unsigned status = 0;
    int rc = gnutls_certificate_verify_peers2(session, &status);
    if (rc < 0 || status != 0) {
      std::string why = rc < 0 ? gnutls_strerror(rc) : "does not verify";
      gnutls_datum_t out{};
      if (rc >= 0 && gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
        why = std::string(reinterpret_cast<const char*>(out.data), out.size);
        gnutls_free(out.data);
      }
      throw Error(Errc::refused, "the client certificate " + subject +
                                     " is not from the CA in [http] client_ca: " + printable(why, 160));
    }
    if (config.http.client_names.empty()) return subject;
    auto listed = [&](const std::string& name) {
      for (const std::string& n : config.http.client_names)
        if (n == name) return true;
      return false;
    };
    char buf[512];
    std::size_t size = sizeof buf;
    if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size) == 0 &&
        listed(std::string(buf, size)))
      return subject;
    for (unsigned i = 0;; ++i) {
      size = sizeof buf;
      unsigned critical = 0;
      int type = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &size, &critical);
      if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) break;
      if (type == GNUTLS_SAN_DNSNAME && listed(std::string(buf, size))) return subject;
    }
    throw Error(Errc::refused, "the client certificate " + subject + " names no one in [http] client_names");
  }

  // ---- the request ----
  static MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                               const char*, size_t* upload_size, void** con_cls) {
    auto* self = static_cast<Impl*>(cls);
    auto* x = static_cast<Exchange*>(*con_cls);
    if (!x) {
      x = new Exchange;
      x->connection = c;
      *con_cls = x;
      return MHD_YES;
    }
    if (*upload_size > 0) {
      x->body += *upload_size;
      if (x->body > kMaxBody && !x->refusal)
        x->refusal = Error(Errc::bad_request, "these requests carry no body: send the hash in ?sha256=");
      *upload_size = 0;
      return MHD_YES;
    }
    if (x->state == Exchange::State::reading) return self->start(*x, url, method);
    if (x->state == Exchange::State::done) return self->reply(*x);
    return MHD_YES;
  }

  MHD_Result start(Exchange& x, const char* url, const char* method) {
    MHD_Connection* c = x.connection;
    set_in_request(c, true);  // headers and body are in: the deadline is met
    const MHD_ConnectionInfo* addr = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    x.peer.address = addr && addr->client_addr
                         ? format_address(addr->client_addr, addr->client_addr->sa_family == AF_INET6
                                                                 ? sizeof(sockaddr_in6)
                                                                 : sizeof(sockaddr_in))
                         : "unknown";
    const char* accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    x.json = accept && std::strstr(accept, "application/json");
    x.method = method ? method : "";
    x.path = url ? url : "";
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, &collect_query, &x.query);
    if (!x.refusal) {
      try {
        x.peer.certificate = check_client(c);
      } catch (const Error& e) {
        x.refusal = e;
      }
    }
    x.state = Exchange::State::working;
    // The connection waits, suspended, while a worker asks the service; the event thread
    // goes on with every other peer.
    MHD_suspend_connection(c);
    bool queued = submit([this, &x] { work(x); }, kMaxQueued);
    if (!queued) {
      x.outcome = Outcome::refused(Errc::busy, "too many requests waiting: try again shortly");
      x.state = Exchange::State::done;
      MHD_resume_connection(c);
    }
    return MHD_YES;
  }

  void work(Exchange& x) {
    const std::string what = describe_http_request(x.method, x.path, x.query);
    try {
      if (x.refusal) throw *x.refusal;
      HttpRoute route = parse_http_route(x.method, x.path, x.query);
      x.kind = route.kind;
      x.form = route.request.form;
      switch (route.kind) {
        case HttpRoute::Kind::status:
          x.outcome = Outcome::done(service.status() + "\n");
          break;
        case HttpRoute::Kind::metrics:
          x.outcome = Outcome::done(prometheus_exposition(nlohmann::json::parse(service.status())));
          break;
        case HttpRoute::Kind::sign:
          x.outcome = service.handle(route.request, x.peer);  // audited there
          break;
      }
    } catch (const Error& e) {
      service.audit_refusal(x.peer, e, what);
      x.outcome = Outcome::refused(e);
    } catch (const std::exception& e) {
      x.outcome = Outcome::refused(Errc::internal, std::string("the request could not be completed: ") + e.what());
    }
    x.state = Exchange::State::done;
    MHD_resume_connection(x.connection);
  }

  // The Outcome, rendered: 200 and the payload, or the error table's status and one line
  // (a JSON object for Accept: application/json).
  MHD_Result reply(Exchange& x) {
    const Outcome& o = x.outcome;
    std::string body;
    unsigned status = MHD_HTTP_OK;
    const char* type = content_type(x.kind, x.form);
    if (!o.ok()) {
      status = static_cast<unsigned>(http_status_for(*o.refusal));
      std::string line = o.message.substr(0, 512);
      for (char& ch : line)
        if (ch == '\n' || ch == '\r') ch = ' ';
      if (x.json) {
        body = nlohmann::json{{"error", errc_name(*o.refusal)},
                              {"code", reply_code_name(*o.refusal)},
                              {"status", status},
                              {"message", line}}
                   .dump() +
               "\n";
        type = "application/json";
      } else {
        body = line + "\n";
        type = "text/plain; charset=utf-8";
      }
    } else {
      body = o.payload;
    }
    MHD_Response* r = MHD_create_response_from_buffer(body.size(), body.data(), MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (!o.ok()) MHD_add_response_header(r, "Catsign-Error", reply_code_name(*o.refusal));
    MHD_Result rc = MHD_queue_response(x.connection, status, r);
    MHD_destroy_response(r);
    return rc;
  }

  void start_daemon(UniqueFd fd, const std::string& name, const std::string& cert, const std::string& key,
                    const std::string& ca) {
    // poll(2), not epoll: with epoll, libmicrohttpd 0.9.75 keeps a connection whose TLS
    // handshake is half-sent on its ready list and retries it on every turn of the loop, so a
    // few hundred peers sending a ClientHello a byte a second cost the daemon a core
    // (docs/DESIGN.md "Facts"). poll has no FD_SETSIZE limit.
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (config.http.tls) flags |= MHD_USE_TLS;
    std::vector<MHD_OptionItem> o;
    auto opt = [&](MHD_OPTION option, intptr_t value, void* ptr = nullptr) { o.push_back({option, value, ptr}); };
    opt(MHD_OPTION_LISTEN_SOCKET, fd.get());
    // Four event threads per listener, each polling its share of the connections: a peer's
    // handshake waits behind fewer others', and a crowd's work is spread.
    opt(MHD_OPTION_THREAD_POOL_SIZE, kEventThreads);
    opt(MHD_OPTION_CONNECTION_LIMIT, config.http.max_connections);  // divided among the threads
    opt(MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory);
    opt(MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(config.daemon.request_timeout.count()));
    opt(MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&on_completed), this);
    opt(MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&on_connection), this);
    opt(MHD_OPTION_UNESCAPE_CALLBACK, reinterpret_cast<intptr_t>(&keep_escaped), nullptr);
    opt(MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&mhd_log), nullptr);
    opt(MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1);
    if (config.http.tls) {
      opt(MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(cert.c_str()));
      opt(MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(key.c_str()));
      opt(MHD_OPTION_HTTPS_PRIORITIES, 0, const_cast<char*>(kTlsPriorities));
      if (!ca.empty()) opt(MHD_OPTION_HTTPS_MEM_TRUST, 0, const_cast<char*>(ca.c_str()));
    }
    opt(MHD_OPTION_END, 0);
    MHD_Daemon* d = MHD_start_daemon(flags, 0, &on_accept, this, &on_request, this, MHD_OPTION_ARRAY, o.data(),
                                     MHD_OPTION_END);
    if (!d)
      fail("[http] cannot serve " + name +
           ": libmicrohttpd refused to start (check that tls_certificate and tls_key are a matching PEM pair)");
    (void)fd.release();  // the library closes it when it stops
    daemons.push_back(d);
    names.push_back((config.http.tls ? "https://" : "http://") + name);
  }

  void stop() {
    for (MHD_Daemon* d : daemons) MHD_quiesce_daemon(d);
    {
      std::lock_guard lock(jobs_mutex);
      workers_stop = true;
    }
    jobs_cv.notify_all();
    for (std::thread& t : workers) t.join();  // every suspended request is answered first
    {
      std::lock_guard lock(sweeper_mutex);
      sweeper_stop = true;
    }
    sweeper_cv.notify_all();
    if (sweeper.joinable()) sweeper.join();
    for (MHD_Daemon* d : daemons) MHD_stop_daemon(d);
    daemons.clear();
  }
};

HttpFront::HttpFront(const Config& config, SigningService& service, std::vector<int> activated)
    : impl_(std::make_unique<Impl>(config, service)) {
  std::string cert, key, ca;
  if (config.http.tls) {
    cert = read_pem(config.http.tls_certificate, "tls_certificate");
    key = read_pem(config.http.tls_key, "tls_key");
    if (!config.http.client_ca.empty()) ca = read_pem(config.http.client_ca, "client_ca");
  }
  std::vector<std::pair<UniqueFd, std::string>> sockets;
  for (int fd : activated) {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    sockets.emplace_back(UniqueFd(fd), format_address(reinterpret_cast<sockaddr*>(&a), len));
  }
  if (sockets.empty())
    for (const std::string& l : config.http.listen) sockets.emplace_back(listen_on(l), l);
  if (sockets.empty())
    fail("[http] has no listen addresses and systemd passed no 'http' socket: set listen = [\"address:port\"]");
  unsigned workers = config.token.sessions + 2;
  for (unsigned i = 0; i < workers; ++i) impl_->workers.emplace_back([this] { impl_->worker_loop(); });
  impl_->sweeper = std::thread([this] { impl_->sweep_loop(); });
  try {
    for (auto& [fd, name] : sockets) impl_->start_daemon(std::move(fd), name, cert, key, ca);
  } catch (...) {
    secure_wipe(key.data(), key.size());
    impl_->stop();
    throw;
  }
  // The library holds its own copy of the key from here.
  secure_wipe(key.data(), key.size());
  if (!config.http.tls)
    spdlog::warn("[http] tls = false: requests and signatures travel in plain HTTP, and anyone on the path can "
                 "ask in a permitted peer's name; use it only on a network you trust");
}

HttpFront::~HttpFront() { impl_->stop(); }

std::string HttpFront::describe() const {
  std::string s;
  for (const std::string& n : impl_->names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace catsign::daemon
