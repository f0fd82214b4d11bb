// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/spool.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "catsign/error.hpp"
#include "catsign/util/file.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::daemon {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kRequestSuffix = ".req";
constexpr std::size_t kMaxStem = 100;
constexpr auto kRescanEvery = std::chrono::seconds(5);
// A rescan leaves alone a request changed this recently: it may still be being written in
// place, and its IN_CLOSE_WRITE will bring it here when it is whole.
constexpr auto kSettle = std::chrono::seconds(2);
constexpr auto kMaxBackoff = std::chrono::minutes(5);
constexpr std::size_t kMaxRemembered = 4096;  // names logged once, answered, failing
constexpr mode_t kAnswerMode = 0640;
const char* const kAnswerSuffixes[] = {".asc", ".sig", ".signed", ".err"};

bool stem_char_ok(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// A file name or reply as it may appear in the log: quoted, anything unprintable escaped.
std::string printable(std::string_view s) { return quote_for_message(s, 200); }

struct Identity {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const Identity&) const = default;
};

Identity identity_of(const struct stat& st) { return {st.st_dev, st.st_ino}; }

struct Failure {
  Clock::time_point next_try;
  unsigned attempts = 0;
};

// Why a request could not be answered this time; it stays and is retried later.
struct Transient : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

std::optional<std::string> spool_request_stem(std::string_view filename) {
  if (filename.size() <= kRequestSuffix.size() || !filename.ends_with(kRequestSuffix)) return std::nullopt;
  std::string_view stem = filename.substr(0, filename.size() - kRequestSuffix.size());
  if (stem.empty() || stem.size() > kMaxStem) return std::nullopt;
  if (!std::all_of(stem.begin(), stem.end(), stem_char_ok)) return std::nullopt;
  return std::string(stem);
}

const char* spool_answer_suffix(const Request& request) noexcept { return signing::suffix_for(request.form); }

struct Spool::Impl {
  const Config& config;
  SigningService& service;
  std::filesystem::path dir;
  UniqueFd dir_fd;
  UniqueFd inotify_fd;
  UniqueFd wake_fd;
  bool watching = false;
  std::thread thread;
  std::atomic<bool> stopping{false};

  std::set<std::string> logged_ignored;           // unsafe names, logged once
  std::map<std::string, Identity> answered;       // answered but NAME.req could not be removed
  std::map<std::string, Failure> failing;         // left in place, retried with backoff

  Impl(const Config& c, SigningService& s) : config(c), service(s), dir(c.spool_dir) {}

  void open_folder() {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
      int e = errno;
      throw Error(Errc::usage, "[spool] dir " + dir.string() + " cannot be opened as a folder: " + errno_text(e) +
                                   " (create it, e.g. with packaging/tmpfiles.d/catsign.conf)");
    }
    dir_fd = std::move(fd);
  }

  void add_watch() {
    watching = ::inotify_add_watch(inotify_fd.get(), dir.c_str(),
                                   IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW) >= 0;
    if (!watching)
      spdlog::warn("spool {}: no inotify watch ({}); requests are picked up by the rescan every {}s", dir.string(),
                   errno_text(errno), kRescanEvery.count());
  }

  // ---- the thread ----

  void run() {
    scan();
    auto next_scan = Clock::now() + kRescanEvery;
    while (!stopping.load()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_scan - Clock::now()).count();
      pollfd fds[2] = {{wake_fd.get(), POLLIN, 0}, {inotify_fd.get(), POLLIN, 0}};
      int n = ::poll(fds, 2, static_cast<int>(std::clamp<long long>(left, 0, 60'000)));
      if (stopping.load()) break;
      if (n < 0 && errno != EINTR) {
        spdlog::error("spool: poll failed: {}", errno_text(errno));
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      bool rescan = false;
      if (n > 0 && (fds[1].revents & POLLIN)) {
        for (const std::string& name : read_events(rescan)) {
          if (stopping.load()) break;
          consider(name, false);
        }
      }
      if (rescan || Clock::now() >= next_scan) {
        if (!watching) reopen();
        scan();
        next_scan = Clock::now() + kRescanEvery;
      }
    }
  }

  // The names of .req files that were closed after writing or moved in; sets `rescan` when
  // events were lost or the watch went away.
  std::vector<std::string> read_events(bool& rescan) {
    std::vector<std::string> names;
    alignas(inotify_event) char buf[16384];
    for (;;) {
      ssize_t n = ::read(inotify_fd.get(), buf, sizeof buf);
      if (n <= 0) break;
      for (char* p = buf; p < buf + n;) {
        auto* ev = reinterpret_cast<inotify_event*>(p);
        p += sizeof(inotify_event) + ev->len;
        if (ev->mask & IN_Q_OVERFLOW) rescan = true;
        if (ev->mask & IN_IGNORED) {  // the folder went away (removed, unmounted)
          spdlog::error("spool {}: the folder is gone; watching for it again", dir.string());
          watching = false;
          rescan = true;
        }
        if (ev->len == 0) continue;
        std::string name(ev->name, ::strnlen(ev->name, ev->len));
        if (name.ends_with(kRequestSuffix) &&
            std::find(names.begin(), names.end(), name) == names.end())
          names.push_back(std::move(name));
      }
    }
    return names;
  }

  // After the folder was removed or replaced: open the new one and watch it.
  void reopen() {
    try {
      open_folder();
      add_watch();
      if (watching) spdlog::info("spool {}: watching again", dir.string());
    } catch (const Error& e) {
      spdlog::error("{}", e.what());
    }
  }

  void scan() {
    int fd = ::dup(dir_fd.get());
    if (fd < 0) {
      spdlog::error("spool {}: cannot scan: {}", dir.string(), errno_text(errno));
      return;
    }
    DIR* d = ::fdopendir(fd);
    if (!d) {
      ::close(fd);
      spdlog::error("spool {}: cannot scan: {}", dir.string(), errno_text(errno));
      return;
    }
    ::rewinddir(d);  // the dup shares its offset with dir_fd
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name.ends_with(kRequestSuffix)) names.emplace_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    // Forget what is no longer there.
    auto prune = [&](auto& m) {
      for (auto it = m.begin(); it != m.end();) {
        if (std::binary_search(names.begin(), names.end(), *key_of(it))) ++it;
        else it = m.erase(it);
      }
    };
    prune(answered);
    prune(failing);
    prune(logged_ignored);
    for (const std::string& name : names) {
      if (stopping.load()) return;
      consider(name, true);
    }
  }

  template <class It>
  static const std::string* key_of(It it) {
    if constexpr (requires { it->first; }) return &it->first;
    else return &*it;
  }

  template <class C>
  static void bound(C& c) {
    if (c.size() >= kMaxRemembered) c.clear();
  }

  // ---- one request ----

  void consider(const std::string& name, bool from_scan) {
    std::optional<std::string> stem = spool_request_stem(name);
    if (!stem) {
      if (!logged_ignored.count(name)) {
        bound(logged_ignored);
        logged_ignored.insert(name);
        spdlog::warn("spool: ignoring {}: a request is NAME.req with NAME of 1 to 100 of A-Z a-z 0-9 . _ -",
                     printable(name));
      }
      return;
    }
    auto f = failing.find(name);
    if (f != failing.end() && Clock::now() < f->second.next_try) return;
    try {
      if (answer(name, *stem, from_scan)) failing.erase(name);
    } catch (const std::exception& e) {
      Failure& fail = failing[name];
      ++fail.attempts;
      auto wait = std::min<Clock::duration>(kRescanEvery * (1u << std::min(fail.attempts - 1, 8u)), kMaxBackoff);
      fail.next_try = Clock::now() + wait;
      if (failing.size() > kMaxRemembered) failing.erase(failing.begin());
      spdlog::error("spool: {} left in place, retrying in {}s (attempt {}): {}", name,
                    std::chrono::duration_cast<std::chrono::seconds>(wait).count(), fail.attempts, e.what());
    }
  }

  // Returns true when the request is dealt with (answered, gone, or to be left alone).
  bool answer(const std::string& name, const std::string& stem, bool from_scan) {
    struct stat st {};
    if (::fstatat(dir_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return true;  // already answered, or taken back
      throw Transient("cannot stat it: " + errno_text(errno));
    }
    auto seen = answered.find(name);
    if (seen != answered.end()) {
      if (seen->second == identity_of(st)) return true;  // answered before; it could not be removed
      answered.erase(seen);
    }
    Peer peer{0, st.st_uid, st.st_gid};
    if (!S_ISREG(st.st_mode)) {
      refuse(name, stem, st, peer, "not a regular file (a symlink, FIFO, folder or device): write the request into a regular file");
      return true;
    }
    if (from_scan) {
      auto changed = std::chrono::system_clock::time_point(std::chrono::seconds(st.st_ctim.tv_sec));
      if (std::chrono::system_clock::now() - changed < kSettle) return true;  // its close brings it back
    }
    // Never follows a link that appeared since, never blocks on a FIFO, never takes a tty.
    UniqueFd fd(::openat(dir_fd.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
      int e = errno;
      if (e == ENOENT) return true;
      if (e == ELOOP) {
        refuse(name, stem, st, peer, "not a regular file (a symlink): write the request into a regular file");
        return true;
      }
      throw Transient("cannot open it: " + errno_text(e));
    }
    if (::fstat(fd.get(), &st) != 0) throw Transient("cannot stat it: " + errno_text(errno));
    peer = Peer{0, st.st_uid, st.st_gid};
    if (!S_ISREG(st.st_mode)) {
      refuse(name, stem, st, peer, "not a regular file: write the request into a regular file");
      return true;
    }
    // A hard link to someone else's file would make them the peer, and its content the request.
    if (st.st_nlink != 1) {
      refuse(name, stem, st, peer, "the request file has other hard links: write it as a file of its own");
      return true;
    }
    // The owner asks: the same rule as the sign socket's, so the folder is no way around it.
    if (!may_sign(st.st_uid)) {
      Error e(Errc::refused, "uid " + std::to_string(st.st_uid) + ", the owner of " + name +
                                 ", may not ask for signatures: add it to [daemon] sign_uids or sign_gids");
      service.audit_refusal(peer, e, "spool " + name);
      finish(name, stem, st, ".err", err_reply(e.code(), e.what()));
      spdlog::warn("spool: answered {} with {}.err: {}", name, stem, e.what());
      return true;
    }
    if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > kMaxRequestLine + 1) {
      refuse(name, stem, st, peer, "request file larger than " + std::to_string(kMaxRequestLine + 1) +
                                       " bytes: one SIGN or SIGNPKG line is expected");
      return true;
    }
    std::string text(kMaxRequestLine + 2, '\0');
    std::size_t got = 0;
    while (got < text.size()) {
      ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Transient("cannot read it: " + errno_text(errno));
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    fd.reset();
    if (text.size() > kMaxRequestLine + 1) {
      refuse(name, stem, st, peer, "request file larger than " + std::to_string(kMaxRequestLine + 1) +
                                       " bytes: one SIGN or SIGNPKG line is expected");
      return true;
    }
    if (!text.empty() && text.back() == '\n') text.pop_back();
    bool ascii = std::all_of(text.begin(), text.end(), [](char ch) {
      auto c = static_cast<unsigned char>(ch);
      return c >= 0x20 && c < 0x7f;
    });
    if (!ascii) {
      refuse(name, stem, st, peer, "the request is not one line of printable ASCII");
      return true;
    }
    Request request;
    try {
      request = parse_request(text);
      if (request.kind != Request::Kind::sign && request.kind != Request::Kind::signpkg)
        throw Error(Errc::bad_request, "the spool answers SIGN and SIGNPKG requests only");
    } catch (const Error& e) {
      service.audit_refusal(peer, e, "spool " + name + ": " + text);
      finish(name, stem, st, ".err", err_reply(e.code(), e.what()));
      return true;
    }
    // rename(2) replaces a file or a link, never a folder: a folder where the answer goes
    // is refused before the token signs anything.
    const std::string answer_name = stem + spool_answer_suffix(request);
    struct stat in_the_way {};
    if (::fstatat(dir_fd.get(), answer_name.c_str(), &in_the_way, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(in_the_way.st_mode)) {
      refuse(name, stem, st, peer, answer_name + " is a folder, so no answer can be put there: remove it and send "
                                   "the request again; nothing was signed");
      return true;
    }
    Outcome outcome = service.handle(request, peer);
    if (outcome.ok()) {
      try {
        finish(name, stem, st, spool_answer_suffix(request), outcome.payload);
      } catch (const Transient& e) {
        undeliverable(name, stem, st, answer_name, e.what());
        return true;
      }
      spdlog::info("spool: answered {} with {}", name, answer_name);
      return true;
    }
    std::string err = err_reply(*outcome.refusal, outcome.message);
    if (*outcome.refusal == Errc::busy) throw Transient(err.substr(0, err.size() - 1));
    finish(name, stem, st, ".err", err);
    spdlog::info("spool: answered {} with {}.err: {}", name, stem, printable(err.substr(0, err.size() - 1)));
    return true;
  }

  // A signature was made, and audited, but its answer can't be placed (something put a folder
  // there after the check, the disk is full). The request is never signed again: it gets
  // NAME.err instead, or, when even that can't be written, it is moved aside to
  // NAME.req.unanswered; either way it is remembered as answered while the daemon runs.
  void undeliverable(const std::string& name, const std::string& stem, const struct stat& st,
                     const std::string& answer_name, const std::string& why) {
    spdlog::error("spool: signed {} but cannot put {} in place ({}); it will not be signed again", name, answer_name,
                  why);
    bound(answered);
    answered[name] = identity_of(st);
    try {
      finish(name, stem, st, ".err",
             err_reply(Errc::internal, "the signature was made but " + answer_name + " could not be written (" + why +
                                           "): clear the way and send the request again"));
      return;
    } catch (const Transient& e) {
      spdlog::error("spool: cannot answer {} with {}.err either: {}", name, stem, e.what());
    }
    const std::string aside = name + ".unanswered";
    if (::renameat(dir_fd.get(), name.c_str(), dir_fd.get(), aside.c_str()) == 0) {
      answered.erase(name);
      spdlog::error("spool: moved {} aside to {}", name, aside);
    }
  }

  // The sign socket's rule for a peer, applied to a request file's owner: the daemon's own
  // uid, a uid in [daemon] sign_uids, or a member of a group in sign_gids by the user
  // database. The file's own group counts for nothing: in a setgid folder every new file gets
  // the folder's group, whoever wrote it.
  bool may_sign(uid_t uid) const {
    const DaemonConfig& d = config.daemon;
    if (uid == ::getuid() || std::find(d.sign_uids.begin(), d.sign_uids.end(), uid) != d.sign_uids.end()) return true;
    if (d.sign_gids.empty()) return false;
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) return false;
    int count = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count) < 0) {
      groups.resize(static_cast<std::size_t>(count));
      if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count) < 0) return false;
    }
    groups.resize(static_cast<std::size_t>(count));
    for (gid_t g : groups)
      if (std::find(d.sign_gids.begin(), d.sign_gids.end(), g) != d.sign_gids.end()) return true;
    return false;
  }

  // Answers a file that is not even read as a request; audited like a refused connection.
  void refuse(const std::string& name, const std::string& stem, const struct stat& st, const Peer& peer,
              const std::string& why) {
    Error e(Errc::bad_request, name + ": " + why);
    service.audit_refusal(peer, e, "spool " + name);
    finish(name, stem, st, ".err", err_reply(e.code(), e.what()));
    spdlog::warn("spool: answered {} with {}.err: {}", name, stem, why);
  }

  // Writes the answer atomically beside the request (renaming over whatever has its name,
  // never through it), removes other answers to an earlier request of the same name, then the
  // request itself, unless it was replaced meanwhile.
  void finish(const std::string& name, const std::string& stem, const struct stat& st, const char* suffix,
              std::string_view contents) {
    try {
      // Through the folder's descriptor: whatever becomes of the path, nothing lands elsewhere.
      write_file_atomically_at(dir_fd.get(), stem + suffix, as_bytes(contents), kAnswerMode, dir.string());
    } catch (const std::exception& e) {
      throw Transient(std::string("cannot write the answer: ") + e.what());
    }
    for (const char* other : kAnswerSuffixes)
      if (std::strcmp(other, suffix) != 0) ::unlinkat(dir_fd.get(), (stem + other).c_str(), 0);
    struct stat now {};
    if (::fstatat(dir_fd.get(), name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 || identity_of(now) != identity_of(st))
      return;  // replaced by a new request, which gets its own answer
    int flags = S_ISDIR(now.st_mode) ? AT_REMOVEDIR : 0;
    if (::unlinkat(dir_fd.get(), name.c_str(), flags) != 0) {
      spdlog::error("spool: answered {} but cannot remove it ({}); it will not be answered again", name,
                    errno_text(errno));
      bound(answered);
      answered[name] = identity_of(st);
    }
  }
};

Spool::Spool(const Config& config, SigningService& service) : impl_(std::make_unique<Impl>(config, service)) {
  Impl& m = *impl_;
  if (m.dir.empty()) throw Error(Errc::usage, "[spool] dir is not set");
  m.open_folder();
  m.inotify_fd = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!m.inotify_fd) throw Error(Errc::io, "spool: inotify_init1 failed: " + errno_text(errno));
  m.wake_fd = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!m.wake_fd) throw Error(Errc::io, "spool: eventfd failed: " + errno_text(errno));
  m.add_watch();
}

Spool::~Spool() { stop(); }

void Spool::start() {
  if (impl_->thread.joinable()) return;
  impl_->stopping = false;
  impl_->thread = std::thread([this] {
    try {
      impl_->run();
    } catch (const std::exception& e) {
      spdlog::critical("spool: stopped after an unexpected failure: {}", e.what());
    }
  });
  spdlog::info("spool: watching {}", impl_->dir.string());
}

void Spool::stop() noexcept {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stopping = true;
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(impl_->wake_fd.get(), &one, sizeof one);
  impl_->thread.join();
}

}  // namespace catsign::daemon
