#include "catsign/token/pin.hpp"

#include <fcntl.h>
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
// the secret lands in a stdio buffer. Returns false when the descriptor failed (errno set).
bool read_line(int fd, SecureString& pin, bool& saw_anything) {
  for (;;) {
    char c = 0;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return true;  // EOF ends the PIN like a newline does
    saw_anything = true;
    if (c == '\n') return true;
    pin.push_back(c);
    c = 0;
  }
}

// A trailing CR (a PIN file written on Windows, or a terminal in raw-ish mode).
SecureString strip_cr(SecureString pin) {
  if (pin.empty() || pin.view().back() != '\r') return pin;
  SecureString out;
  std::string_view v = pin.view();
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.remove_suffix(1);
  for (char c : v) out.push_back(c);
  return out;
}

// --- terminal restore on signals: best effort, async-signal-safe (tcsetattr, signal, raise) ---
volatile sig_atomic_t g_tty_fd = -1;
struct termios g_saved_tty;
constexpr int kRestoreSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
struct sigaction g_old_actions[sizeof kRestoreSignals / sizeof kRestoreSignals[0]];

extern "C" void restore_tty_and_reraise(int sig) {
  if (g_tty_fd >= 0) tcsetattr(static_cast<int>(g_tty_fd), TCSAFLUSH, &g_saved_tty);
  // Hand the signal to whoever had it before, by default disposition or their handler.
  for (std::size_t i = 0; i < sizeof kRestoreSignals / sizeof kRestoreSignals[0]; ++i) {
    if (kRestoreSignals[i] == sig) sigaction(sig, &g_old_actions[i], nullptr);
  }
  raise(sig);
}

class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) != 0) {
      throw Error(Errc::usage, std::string("cannot read the terminal settings of /dev/tty: ") +
                                   std::strerror(errno) + "; pass the PIN with --pin-fd N");
    }
    g_saved_tty = saved_;
    g_tty_fd = fd_;
    struct sigaction sa {};
    sa.sa_handler = restore_tty_and_reraise;
    sigemptyset(&sa.sa_mask);
    for (std::size_t i = 0; i < sizeof kRestoreSignals / sizeof kRestoreSignals[0]; ++i) {
      sigaction(kRestoreSignals[i], &sa, &g_old_actions[i]);
    }
    struct termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK);
    quiet.c_lflag |= ECHONL;
    if (tcsetattr(fd_, TCSAFLUSH, &quiet) != 0) {
      int err = errno;
      restore();
      throw Error(Errc::usage, std::string("cannot turn off echo on /dev/tty: ") + std::strerror(err) +
                                   "; pass the PIN with --pin-fd N");
    }
  }
  ~EchoOff() { restore(); }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  void restore() noexcept {
    tcsetattr(fd_, TCSAFLUSH, &saved_);
    for (std::size_t i = 0; i < sizeof kRestoreSignals / sizeof kRestoreSignals[0]; ++i) {
      sigaction(kRestoreSignals[i], &g_old_actions[i], nullptr);
    }
    g_tty_fd = -1;
  }
  int fd_;
  struct termios saved_ {};
};

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
  bool saw_anything = false;
  if (!read_line(fd, pin, saw_anything)) {
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
    bool saw_anything = false;
    if (!read_line(fd, pin, saw_anything)) {
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
