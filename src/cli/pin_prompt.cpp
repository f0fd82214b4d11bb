// SPDX-License-Identifier: Apache-2.0
// The PIN prompt: --pin-fd, a pinentry through libassuan, or the terminal.
//
// The pinentry is spoken to as gpg-agent does (GnuPG's agent/call-pinentry.c): libassuan
// starts it on a pipe and reads its greeting, the OPTIONs tell it where and how to draw
// (a tty pinentry opens the terminal named by ttyname; without it, it has none), and GETPIN
// answers "D <percent-escaped PIN>" then OK, or ERR <gpg-error code> <text>. libassuan
// unescapes the D line before our data callback sees it.
#include "catsign/cli/pin_prompt.hpp"

#include <assuan.h>
#include <gpg-error.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "catsign/error.hpp"
#include "catsign/token/pin.hpp"
#include "catsign/token/pkcs11_uri.hpp"
#include "catsign/util/duration.hpp"

namespace catsign::cli {

namespace {

// libassuan keeps the lines it reads, the D line with the PIN among them, in memory it
// allocates through these hooks: every block is wiped before it is freed.
void wiping_free(void* p) {
  if (!p) return;
  secure_wipe(p, ::malloc_usable_size(p));
  std::free(p);
}

void* wiping_realloc(void* p, std::size_t n) {
  if (!p) return std::malloc(n);
  if (n == 0) {
    wiping_free(p);
    return nullptr;
  }
  void* q = std::malloc(n);
  if (!q) return nullptr;
  std::memcpy(q, p, std::min(::malloc_usable_size(p), n));
  wiping_free(p);
  return q;
}

assuan_malloc_hooks g_wiping_hooks = {std::malloc, wiping_realloc, wiping_free};

// No libassuan logging at all, whatever ASSUAN_DEBUG says: a log could show the D line.
int no_log(assuan_context_t, void*, unsigned int, const char*) { return 0; }

struct Session {
  assuan_context_t ctx = nullptr;
  std::string program;
  std::string last_error;  // the text of the last ERR line from the pinentry

  ~Session() {
    if (ctx) assuan_release(ctx);  // sends BYE, waits for the pinentry to exit
  }

  // Sees every line; keeps only the text of ERR lines (never a D line), and asks libassuan
  // to log nothing.
  static unsigned int monitor(assuan_context_t, void* hook, int direction, const char* line, std::size_t length) {
    auto* self = static_cast<Session*>(hook);
    if (direction == ASSUAN_IO_FROM_PEER && length > 4 && std::memcmp(line, "ERR ", 4) == 0) {
      std::string_view text(line + 4, std::min<std::size_t>(length - 4, 200));
      std::size_t space = text.find(' ');  // after the numeric code
      text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
      std::string clean;
      for (char c : text)
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) clean += c;
      self->last_error = clean;
    }
    return ASSUAN_IO_MONITOR_NOLOG;
  }

  // "Operation cancelled <Pinentry>" as the pinentry said it, else libgpg-error's words.
  std::string text_of(gpg_error_t err) const {
    if (!last_error.empty()) return last_error;
    return std::string(gpg_strerror(err)) + " <" + gpg_strsource(err) + ">";
  }

  gpg_error_t transact(const std::string& command, SecureString* data = nullptr) {
    last_error.clear();
    auto on_data = [](void* opaque, const void* buffer, std::size_t length) -> gpg_error_t {
      auto* pin = static_cast<SecureString*>(opaque);
      if (!pin) return gpg_error(GPG_ERR_ASS_NO_DATA_CB);
      try {
        for (std::size_t i = 0; i < length; ++i) pin->push_back(static_cast<const char*>(buffer)[i]);
      } catch (const std::exception&) {
        return gpg_error(GPG_ERR_TOO_LARGE);
      }
      return 0;
    };
    return assuan_transact(ctx, command.c_str(), on_data, data, nullptr, nullptr, nullptr, nullptr);
  }

  void command(const std::string& line, const char* what) {
    if (gpg_error_t err = transact(line))
      throw Error(Errc::usage, "pinentry " + program + " refused " + what + ": " + text_of(err));
  }
};

// Assuan percent-escapes '%', CR, LF and other control characters in command arguments.
std::string escape(const std::string& text) {
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (c == '%' || c < 0x20 || c == 0x7f) {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// libassuan execs the program by path: look a bare name up in PATH, as a shell would.
std::string find_program(const std::string& program) {
  auto runnable = [](const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  if (program.find('/') != std::string::npos) {
    if (runnable(program)) return program;
  } else if (const char* path = std::getenv("PATH")) {
    std::string_view dirs = path;
    while (true) {
      std::size_t colon = dirs.find(':');
      std::string dir(dirs.substr(0, colon));
      std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
      if (runnable(candidate)) return candidate.string();
      if (colon == std::string_view::npos) break;
      dirs.remove_prefix(colon + 1);
    }
  }
  throw Error(Errc::usage, "pinentry program '" + program +
                               "' ([token] pinentry) is not installed or not executable: install it "
                               "(e.g. apt-get install pinentry-tty) or give its full path");
}

std::string first_env(std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (const char* v = std::getenv(n); v && *v) return v;
  return {};
}

// The terminal a tty pinentry should use: GPG_TTY (as for gpg), else the one on stdin,
// stdout or stderr.
std::string terminal_name() {
  if (std::string t = first_env({"GPG_TTY"}); !t.empty()) return t;
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
    if (const char* t = ::ttyname(fd)) return t;
  return {};
}

}  // namespace

std::string PinRequest::prompt() const {
  std::string who = token.empty() ? "the token" : "token '" + token + "'";
  return "PIN for " + who + (key.empty() ? "" : ", key '" + key + "',") + " " + purpose + ": ";
}

std::string PinRequest::description() const {
  std::string who = token.empty() ? "the token" : "token \"" + token + "\"";
  std::string text = "catsign needs the user PIN of " + who + " " + purpose + ".";
  if (!key.empty()) text += "\nKey: " + key + (uri.empty() ? "" : " (" + uri + ")");
  return text;
}

PinRequest pin_request_for(const KeyConfig& key, const std::string& purpose) {
  PinRequest r;
  r.key = key.name;
  r.uri = key.uri;
  r.purpose = purpose;
  try {
    r.token = token::Pkcs11Uri::parse(key.uri).token_label.value_or("");
  } catch (const Error&) {
    // The URI is checked when the config is read; a prompt is no place to refuse it.
  }
  return r;
}

SecureString read_pin_with_pinentry(const std::string& program, const PinRequest& request) {
  ::signal(SIGPIPE, SIG_IGN);
  Session s;
  s.program = program;
  std::string path = find_program(program);
  if (gpg_error_t err = assuan_new_ext(&s.ctx, GPG_ERR_SOURCE_DEFAULT, &g_wiping_hooks, no_log, nullptr))
    throw Error(Errc::internal, std::string("cannot set up libassuan: ") + gpg_strerror(err));
  assuan_set_flag(s.ctx, ASSUAN_NO_LOGGING, 1);
  assuan_set_io_monitor(s.ctx, &Session::monitor, &s);
  const char* argv[] = {program.c_str(), nullptr};
  // The pinentry keeps our stderr, where it says why it cannot draw.
  assuan_fd_t keep[] = {STDERR_FILENO, ASSUAN_INVALID_FD};
  if (gpg_error_t err = assuan_pipe_connect(s.ctx, path.c_str(), argv, keep, nullptr, nullptr, 0))
    throw Error(Errc::usage, "cannot start pinentry " + program + ": " + s.text_of(err));

  // Hints: a pinentry that does not know one answers ERR, and does without it.
  std::string tty = terminal_name();
  if (!tty.empty()) s.transact("OPTION ttyname=" + escape(tty));
  if (std::string term = first_env({"TERM"}); !term.empty()) s.transact("OPTION ttytype=" + escape(term));
  if (std::string lc = first_env({"LC_ALL", "LC_CTYPE", "LANG"}); !lc.empty())
    s.transact("OPTION lc-ctype=" + escape(lc));
  if (std::string lc = first_env({"LC_ALL", "LC_MESSAGES", "LANG"}); !lc.empty())
    s.transact("OPTION lc-messages=" + escape(lc));

  s.command("SETTITLE catsign", "the title");
  s.command("SETDESC " + escape(request.description()), "the description");
  s.command("SETPROMPT PIN:", "the prompt");
  s.transact("SETTIMEOUT " + std::to_string(request.timeout.count()));  // older pinentries lack it

  SecureString pin;
  assuan_begin_confidential(s.ctx);
  gpg_error_t err = s.transact("GETPIN", &pin);
  assuan_end_confidential(s.ctx);
  if (err) {
    pin.clear();
    std::string why = s.text_of(err);
    std::string no_tty = tty.empty() && first_env({"DISPLAY", "WAYLAND_DISPLAY"}).empty()
                             ? " (no terminal: stdin is not one and GPG_TTY is unset)"
                             : "";
    if (gpg_err_code(err) == GPG_ERR_CANCELED)
      throw Error(Errc::usage, "no PIN: pinentry " + program + " says: " + why + no_tty);
    throw Error(Errc::usage, "no PIN: pinentry " + program + " failed: " + why + no_tty);
  }
  if (pin.empty()) throw Error(Errc::usage, "no PIN: pinentry " + program + " returned an empty PIN");
  return pin;
}

SecureString ask_pin(const Config& config, const PinRequest& request, std::optional<int> pin_fd) {
  if (!pin_fd && !config.token.pinentry.empty()) return read_pin_with_pinentry(config.token.pinentry, request);
  return token::read_pin(request.prompt(), pin_fd);
}

}  // namespace catsign::cli
