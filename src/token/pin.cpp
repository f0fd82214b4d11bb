// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/pin.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "catsign/error.hpp"

namespace catsign::token {

namespace {

// Reads one line into `pin`, byte by byte so nothing past the line is consumed and no copy of
// the secret lands in a stdio buffer. EOF ends the PIN like a newline does. A read interrupted
// by a signal calls on_eintr(), which says whether to go on. Returns false on a read error.
template <typename OnEintr>
bool read_line(int fd, SecureString& pin, OnEintr on_eintr) {
  for (;;) {
    char c = 0;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0) {
      if (errno == EINTR && on_eintr()) continue;
      return false;
    }
    if (n == 0 || c == '\n') return true;
    pin.push_back(c);
    c = 0;
  }
}

// A trailing CR: a PIN file written on Windows, or a terminal sending CR LF.
SecureString strip_cr(SecureString pin) {
  if (pin.empty() || pin.view().back() != '\r') return pin;
  SecureString out;
  std::string_view v = pin.view();
  v.remove_suffix(1);
  for (char c : v) out.push_back(c);
  return out;
}

// --- echo off, and back on whatever happens -------------------------------------------------
// The handler restores the terminal at once (tcsetattr is async-signal-safe) and records the
// signal; the reading loop then re-raises it with the caller's disposition, as OpenBSD's
// readpassphrase does. After a stop (Ctrl-Z) and fg, echo goes off again and reading resumes.
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
constexpr std::size_t kSignalCount = sizeof kSignals / sizeof kSignals[0];
volatile sig_atomic_t g_tty_fd = -1;
volatile sig_atomic_t g_signal = 0;
struct termios g_saved_tty;

extern "C" void on_signal(int sig) {
  int saved_errno = errno;
  if (g_tty_fd >= 0) tcsetattr(static_cast<int>(g_tty_fd), TCSANOW, &g_saved_tty);
  g_signal = sig;
  errno = saved_errno;
}

class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) != 0) {
      throw Error(Errc::usage, std::string("cannot read the terminal settings of /dev/tty: ") +
                                   std::strerror(errno) + "; pass the PIN with --pin-fd N");
    }
    quiet_ = saved_;
    quiet_.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK);
    quiet_.c_lflag |= ECHONL;
    engage();
  }
  ~EchoOff() { disengage(); }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

  // After an interrupted read: hand a recorded signal to the caller's disposition with the
  // terminal restored, then (if the process is still here) turn echo off again.
  bool after_interrupt() {
    int sig = static_cast<int>(g_signal);
    if (sig == 0) return true;
    disengage();
    kill(getpid(), sig);  // delivered before kill returns when unblocked; may stop or end us
    engage();
    return true;
  }

 private:
  void engage() {
    g_signal = 0;
    g_saved_tty = saved_;
    g_tty_fd = fd_;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: read() must return EINTR so the loop sees the signal
    for (std::size_t i = 0; i < kSignalCount; ++i) sigaction(kSignals[i], &sa, &old_[i]);
    if (tcsetattr(fd_, TCSAFLUSH, &quiet_) != 0) {
      int err = errno;
      disengage();
      throw Error(Errc::usage, std::string("cannot turn off echo on /dev/tty: ") + std::strerror(err) +
                                   "; pass the PIN with --pin-fd N");
    }
  }
  void disengage() noexcept {
    tcsetattr(fd_, TCSAFLUSH, &saved_);
    g_tty_fd = -1;
    for (std::size_t i = 0; i < kSignalCount; ++i) sigaction(kSignals[i], &old_[i], nullptr);
  }

  int fd_;
  struct termios saved_ {};
  struct termios quiet_ {};
  struct sigaction old_[kSignalCount] {};
};

// Reads the PIN line from the terminal. The signals are blocked except inside ppoll, which
// unblocks them atomically while it waits: a Ctrl-Z that lands between two reads is seen
// before the next wait instead of leaving echo on until the next key.
bool read_tty_line(int fd, SecureString& pin, EchoOff& quiet) {
  sigset_t blocked, original;
  sigemptyset(&blocked);
  for (int sig : kSignals) sigaddset(&blocked, sig);
  pthread_sigmask(SIG_BLOCK, &blocked, &original);
  struct Restore {
    sigset_t& mask;
    ~Restore() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } restore{original};
  for (;;) {
    if (g_signal != 0) {
      pthread_sigmask(SIG_SETMASK, &original, nullptr);
      quiet.after_interrupt();
      pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
      continue;
    }
    pollfd p{fd, POLLIN, 0};
    if (::ppoll(&p, 1, nullptr, &original) < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    char c = 0;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    if (n == 0 || c == '\n') return true;
    pin.push_back(c);
    c = 0;
  }
}

struct CloseFd {
  int fd;
  ~CloseFd() {
    if (fd >= 0) ::close(fd);
  }
};

SecureString read_from_fd(int fd) {
  CloseFd closer{fd};
  if (fd < 0) throw Error(Errc::usage, "--pin-fd needs a file descriptor number of 0 or more");
  SecureString pin;
  if (!read_line(fd, pin, [] { return true; })) {
    throw Error(Errc::usage, "cannot read the PIN from file descriptor " + std::to_string(fd) + ": " +
                                 std::strerror(errno) + "; is it open for reading?");
  }
  pin = strip_cr(std::move(pin));
  if (pin.empty()) {
    throw Error(Errc::usage, "the PIN read from file descriptor " + std::to_string(fd) +
                                 " is empty: write the PIN followed by a newline to it");
  }
  return pin;
}

SecureString read_from_tty(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    throw Error(Errc::usage, "no terminal to ask for the PIN on (" + std::string(std::strerror(errno)) +
                                 "): pass it with --pin-fd N");
  }
  CloseFd closer{fd};
  SecureString pin;
  {
    EchoOff quiet(fd);
    if (!prompt.empty()) {
      ssize_t ignored = ::write(fd, prompt.data(), prompt.size());
      (void)ignored;
    }
    if (!read_tty_line(fd, pin, quiet)) {
      throw Error(Errc::usage, std::string("cannot read the PIN from the terminal: ") + std::strerror(errno));
    }
  }
  pin = strip_cr(std::move(pin));
  if (pin.empty()) throw Error(Errc::usage, "empty PIN: type the token's user PIN and press Enter");
  return pin;
}

}  // namespace

SecureString read_pin(const std::string& prompt, std::optional<int> pin_fd) {
  if (pin_fd) return read_from_fd(*pin_fd);
  return read_from_tty(prompt);
}

void disable_core_dumps() {
  struct rlimit none {0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) {
    throw Error(Errc::internal, std::string("cannot turn off core dumps (setrlimit): ") + std::strerror(errno));
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    throw Error(Errc::internal, std::string("cannot mark the process undumpable (prctl): ") + std::strerror(errno));
  }
}

}  // namespace catsign::token
