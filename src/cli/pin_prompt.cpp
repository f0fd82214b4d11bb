#include "catsign/cli/pin_prompt.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "catsign/error.hpp"
#include "catsign/token/pin.hpp"
#include "catsign/util/file.hpp"

namespace catsign::cli {

namespace {

// Assuan lines are at most 1000 bytes (libassuan's ASSUAN_LINELENGTH).
constexpr std::size_t kMaxLine = 1000;

class Pinentry {
 public:
  explicit Pinentry(const std::string& program) : program_(program) {
    int to_child[2], from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0)
      throw Error(Errc::io, std::string("cannot start pinentry: ") + std::strerror(errno));
    pid_ = ::fork();
    if (pid_ < 0) throw Error(Errc::io, std::string("cannot start pinentry: ") + std::strerror(errno));
    if (pid_ == 0) {
      ::dup2(to_child[0], 0);
      ::dup2(from_child[1], 1);
      ::execlp(program.c_str(), program.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    in_.reset(from_child[0]);
    out_.reset(to_child[1]);
  }

  ~Pinentry() {
    out_.reset();
    in_.reset();
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }

  // Reads one line into `line` (wiped by the caller's SecureString).
  void read_line(SecureString& line) {
    line.clear();
    for (;;) {
      char c;
      ssize_t n = ::read(in_.get(), &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error(Errc::usage, "pinentry " + program_ + " ended without an answer: is it installed?");
      if (c == '\n') return;
      if (line.size() >= kMaxLine) throw Error(Errc::usage, "pinentry " + program_ + " sent an overlong line");
      line.push_back(c);
    }
  }

  void send(const std::string& command) {
    std::string line = command + "\n";
    if (::write(out_.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      throw Error(Errc::usage, "pinentry " + program_ + " stopped listening");
  }

  void expect_ok(const char* during) {
    SecureString line;
    for (;;) {
      read_line(line);
      std::string_view v = line.view();
      if (v.substr(0, 2) == "OK") return;
      if (v.substr(0, 1) == "#" || v.substr(0, 2) == "S ") continue;  // comments and status lines
      throw Error(Errc::usage, std::string("pinentry refused ") + during + ": " + std::string(v.substr(0, 100)));
    }
  }

 private:
  std::string program_;
  pid_t pid_ = -1;
  UniqueFd in_, out_;
};

// Assuan percent-escapes '%', CR and LF (and may escape more) in data and commands.
std::string escape(const std::string& text) {
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (c == '%' || c == '\n' || c == '\r' || c < 0x20) {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

SecureString read_pin_with_pinentry(const std::string& program, const std::string& description) {
  ::signal(SIGPIPE, SIG_IGN);
  Pinentry p(program);
  p.expect_ok("to start");
  p.send("SETDESC " + escape(description));
  p.expect_ok("the description");
  p.send("SETPROMPT PIN:");
  p.expect_ok("the prompt");
  p.send("GETPIN");
  SecureString line, pin;
  bool got = false;
  for (;;) {
    p.read_line(line);
    std::string_view v = line.view();
    if (v.substr(0, 2) == "D ") {
      for (std::size_t i = 2; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size() + 0 && hex_digit(v[i + 1]) >= 0 && hex_digit(v[i + 2]) >= 0) {
          pin.push_back(static_cast<char>(hex_digit(v[i + 1]) << 4 | hex_digit(v[i + 2])));
          i += 2;
        } else {
          pin.push_back(v[i]);
        }
      }
      got = true;
    } else if (v.substr(0, 2) == "OK") {
      break;
    } else if (v.substr(0, 3) == "ERR") {
      throw Error(Errc::usage, "no PIN: the pinentry dialog was cancelled");
    } else if (!(v.substr(0, 1) == "#" || v.substr(0, 2) == "S ")) {
      throw Error(Errc::usage, "pinentry " + program + " answered GETPIN with something unexpected");
    }
  }
  p.send("BYE");
  if (!got || pin.empty()) throw Error(Errc::usage, "no PIN: the pinentry dialog returned an empty PIN");
  return pin;
}

SecureString ask_pin(const Config& config, const std::string& prompt, std::optional<int> pin_fd) {
  if (!pin_fd && !config.token.pinentry.empty()) return read_pin_with_pinentry(config.token.pinentry, prompt);
  return token::read_pin(prompt, pin_fd);
}

}  // namespace catsign::cli
