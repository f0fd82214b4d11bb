// SPDX-License-Identifier: Apache-2.0
// The pinentry path. Stand-in pinentries (shell scripts speaking the Assuan subset real ones
// do) show what catsign sends and how it reads answers and errors; Debian's real pinentry-tty
// on a pseudo-terminal shows that a person at a terminal unlocks the daemon and signs with it.
#include "catsign/cli/pin_prompt.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "../daemon/daemon_fixture.hpp"
#include "../support/process.hpp"
#include "catsign/error.hpp"

namespace catsign::testing {
namespace {

// A pinentry that logs every command it is sent to `log` (when given) and answers GETPIN with
// `getpin` verbatim (e.g. "D 1234\nOK" or "ERR 83886179 Operation cancelled <Pinentry>").
std::filesystem::path fake_pinentry(const TempDir& dir, const std::string& getpin, const std::string& log = "",
                                    const std::string& before_answer = "") {
  auto path = dir / "pinentry";
  std::string answer;
  std::size_t start = 0;
  while (start <= getpin.size()) {
    std::size_t nl = getpin.find('\n', start);
    std::string line = getpin.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    answer += "echo '" + line + "'; ";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  write_text(path, "#!/bin/sh\necho 'OK Pleased to meet you'\n"
                   "while read -r cmd rest; do\n" +
                       (log.empty() ? std::string() : "  printf '%s %s\\n' \"$cmd\" \"$rest\" >> '" + log + "'\n") +
                       "  case $cmd in\n"
                       "    GETPIN) " + before_answer + answer + ";;\n"
                       "    BYE) exit 0 ;;\n"
                       "    *) echo OK ;;\n"
                       "  esac\n"
                       "done\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

cli::PinRequest request() {
  cli::PinRequest r;
  r.token = "catsign";
  r.key = "catalog";
  r.uri = "pkcs11:token=catsign;object=catalog-2026";
  r.purpose = "to unlock catsignd for 7d 0h";
  return r;
}

std::string error_of(const std::string& program, const cli::PinRequest& r = request()) {
  try {
    cli::read_pin_with_pinentry(program, r);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::usage);
    return e.what();
  }
  return "(no error)";
}

TEST(PinPrompt, PinentryAnswerIsUnescaped) {
  TempDir d;
  SecureString pin = cli::read_pin_with_pinentry(fake_pinentry(d, "D 12%2534 5\nOK").string(), request());
  EXPECT_EQ(pin.view(), "12%34 5");
}

TEST(PinPrompt, SpeaksToThePinentryAsGpgAgentDoes) {
  TempDir d;
  std::string log = (d / "commands").string();
  std::string program = fake_pinentry(d, "D 1\nOK", log).string();
  // In a child: the environment is the child's own.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("GPG_TTY", "/dev/pts/77", 1);
    ::setenv("TERM", "xterm-256color", 1);
    ::unsetenv("LC_ALL");
    ::setenv("LC_CTYPE", "de_DE.UTF-8", 1);
    ::setenv("LANG", "C.UTF-8", 1);
    try {
      cli::read_pin_with_pinentry(program, request());
      _exit(0);
    } catch (...) {
      _exit(1);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  std::string sent = read_text(log);
  EXPECT_NE(sent.find("OPTION ttyname=/dev/pts/77\n"), std::string::npos) << sent;
  EXPECT_NE(sent.find("OPTION ttytype=xterm-256color\n"), std::string::npos) << sent;
  EXPECT_NE(sent.find("OPTION lc-ctype=de_DE.UTF-8\n"), std::string::npos) << sent;
  EXPECT_NE(sent.find("OPTION lc-messages=C.UTF-8\n"), std::string::npos) << sent;
  EXPECT_NE(sent.find("SETDESC catsign needs the user PIN of token \"catsign\" to unlock catsignd for 7d 0h.%0AKey: "
                      "catalog (pkcs11:token=catsign;object=catalog-2026)\n"),
            std::string::npos)
      << sent;
  EXPECT_NE(sent.find("SETPROMPT PIN:\n"), std::string::npos) << sent;
  EXPECT_NE(sent.find("SETTIMEOUT 300\n"), std::string::npos) << sent;
  EXPECT_EQ(sent.find("SETKEYINFO"), std::string::npos) << sent;  // never offer to store the PIN
  EXPECT_LT(sent.find("OPTION ttyname"), sent.find("GETPIN"));
  EXPECT_EQ(sent.substr(sent.size() - 5), "BYE \n");  // and nothing after it
}

TEST(PinPrompt, ThePinentrysOwnErrorTextIsTold) {
  TempDir d;
  std::string e = error_of(fake_pinentry(d, "ERR 83886179 Operation cancelled <Pinentry>").string());
  EXPECT_NE(e.find("Operation cancelled <Pinentry>"), std::string::npos) << e;
  e = error_of(fake_pinentry(d, "ERR 83886142 Timeout <Pinentry>").string());
  EXPECT_NE(e.find("failed: Timeout <Pinentry>"), std::string::npos) << e;
  EXPECT_EQ(e.find("cancel"), std::string::npos) << e;
  e = error_of(fake_pinentry(d, "ERR 83918950 Inappropriate ioctl for device <Pinentry>").string());
  EXPECT_NE(e.find("Inappropriate ioctl for device"), std::string::npos) << e;
  // An error without text: libgpg-error's words for the code.
  e = error_of(fake_pinentry(d, "ERR 83886142").string());
  EXPECT_NE(e.find("Timeout"), std::string::npos) << e;
}

TEST(PinPrompt, MissingOrBrokenPinentryIsAClearError) {
  std::string e = error_of("/nonexistent/pinentry");
  EXPECT_NE(e.find("'/nonexistent/pinentry' ([token] pinentry) is not installed"), std::string::npos) << e;
  e = error_of("pinentry-that-does-not-exist");
  EXPECT_NE(e.find("is not installed"), std::string::npos) << e;
  TempDir d;
  write_text(d / "mute", "#!/bin/sh\nexit 0\n");
  ::chmod((d / "mute").c_str(), 0755);
  e = error_of((d / "mute").string());
  EXPECT_NE(e.find("cannot start pinentry"), std::string::npos) << e;
  EXPECT_NE(error_of(fake_pinentry(d, "OK").string()).find("empty PIN"), std::string::npos);
}

// The fixture's config with [token] pinentry set, beside it (its relative paths still hold).
std::string config_with_pinentry(const DaemonFixture& daemon, const std::string& program) {
  std::string text = read_text(daemon.config());
  text.replace(text.find("[token]\n"), 8, "[token]\npinentry = \"" + program + "\"\n");
  auto path = daemon.dir() / "pinentry.toml";
  write_text(path, text);
  return path.string();
}

TEST(PinPrompt, UnlockThroughPinentry) {
  DaemonFixture daemon;
  TempDir d;
  RunResult r = daemon.catsign(
      {"unlock", "--config", config_with_pinentry(daemon, fake_pinentry(d, std::string("D ") + DaemonFixture::kPin + "\nOK").string())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(daemon.sign("unstable/i386/5.10").code, "OK");
}

// A person may take longer at the pinentry than the daemon lets a connection idle.
TEST(PinPrompt, UnlockAfterAPauseLongerThanTheRequestTimeout) {
  DaemonOptions o;
  o.request_timeout = "1s";
  DaemonFixture daemon(o);
  TempDir d;
  RunResult r = daemon.catsign({"unlock", "--config",
                                config_with_pinentry(daemon, fake_pinentry(d, std::string("D ") + DaemonFixture::kPin + "\nOK",
                                                                           "", "sleep 3; ")
                                                                 .string())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(daemon.status())["state"], "unlocked");
}

// ---- Debian's pinentry-tty on a pseudo-terminal ----------------------------------------------

// Reads the pty master until `want` appears, EOF/EIO, or `seconds` pass.
std::string read_until(int master, const std::string& want, int seconds = 20) {
  std::string out;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (want.empty() || out.find(want) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[512];
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// catsign ARGS run on a pseudo-terminal, as a person at a terminal runs it.
struct OnTerminal {
  int master = -1;
  pid_t pid = -1;
  std::string transcript;

  OnTerminal(const std::vector<std::string>& args, const std::string& softhsm_conf) {
    pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    if (pid == 0) {
      ::setenv("SOFTHSM2_CONF", softhsm_conf.c_str(), 1);
      ::setenv("TERM", "dumb", 1);
      ::unsetenv("GPG_TTY");
      std::vector<char*> argv;
      std::string prog = CATSIGN_BINARY;
      argv.push_back(prog.data());
      std::vector<std::string> copy = args;
      for (std::string& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(prog.c_str(), argv.data());
      _exit(127);
    }
  }
  ~OnTerminal() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (master >= 0) ::close(master);
  }
  std::string until(const std::string& want) {
    std::string got = read_until(master, want);
    transcript += got;
    return got;
  }
  void type(const std::string& keys) { ASSERT_EQ(::write(master, keys.data(), keys.size()), static_cast<ssize_t>(keys.size())); }
  int exit_code() {
    transcript += read_until(master, "");  // to EOF
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

TEST(PinentryTty, UnlocksTheDaemonOnAPseudoTerminal) {
  DaemonFixture daemon;
  OnTerminal t({"unlock", "--config", config_with_pinentry(daemon, "pinentry-tty")}, daemon.softhsm_conf());
  ASSERT_GE(t.pid, 0);
  std::string screen = t.until("PIN:");
  ASSERT_NE(screen.find("PIN:"), std::string::npos) << screen;
  EXPECT_NE(screen.find("catsign needs the user PIN of token \"catsign\" to unlock catsignd for 1h 0m."),
            std::string::npos)
      << screen;
  EXPECT_NE(screen.find("Key: catalog (pkcs11:token=catsign;object=catalog-test)"), std::string::npos) << screen;
  t.type(std::string(DaemonFixture::kPin) + "\n");
  EXPECT_EQ(t.exit_code(), 0) << t.transcript;
  EXPECT_NE(t.transcript.find("unlocked for 1h 0m"), std::string::npos) << t.transcript;
  EXPECT_EQ(t.transcript.find(DaemonFixture::kPin), std::string::npos) << "the PIN was echoed: " << t.transcript;
  EXPECT_EQ(nlohmann::json::parse(daemon.status())["state"], "unlocked");
  EXPECT_EQ(daemon.sign("unstable/i386/5.10").code, "OK");
  EXPECT_EQ(daemon.log().find(DaemonFixture::kPin), std::string::npos);
}

TEST(PinentryTty, CancelledAtTheTerminalLeavesTheDaemonLocked) {
  DaemonFixture daemon;
  OnTerminal t({"unlock", "--config", config_with_pinentry(daemon, "pinentry-tty")}, daemon.softhsm_conf());
  ASSERT_NE(t.until("PIN:").find("PIN:"), std::string::npos);
  t.type("\x04");  // Ctrl-D
  EXPECT_EQ(t.exit_code(), 2) << t.transcript;
  EXPECT_NE(t.transcript.find("no PIN: pinentry pinentry-tty says: Operation cancelled"), std::string::npos)
      << t.transcript;
  EXPECT_EQ(nlohmann::json::parse(daemon.status())["state"], "locked");
}

TEST(PinentryTty, EntersThePinForAOneShotSignature) {
  DaemonFixture daemon;  // its token, key and catalogs; the daemon itself is not used
  std::string catalog = daemon.catalog("unstable/i386/5.10").string();
  std::string out = (daemon.dir() / "one-shot.asc").string();
  OnTerminal t({"sign", "--config", config_with_pinentry(daemon, "/usr/bin/pinentry-tty"), "--output", out, catalog},
               daemon.softhsm_conf());
  std::string screen = t.until("PIN:");
  ASSERT_NE(screen.find("PIN:"), std::string::npos) << screen;
  EXPECT_NE(screen.find("token \"catsign\" to sign with it"), std::string::npos) << screen;
  t.type(std::string(DaemonFixture::kPin) + "\n");
  EXPECT_EQ(t.exit_code(), 0) << t.transcript;
  EXPECT_EQ(t.transcript.find(DaemonFixture::kPin), std::string::npos) << t.transcript;
  RunResult v = run({"sqv", "--keyring", daemon.cert().string(), out, catalog});
  EXPECT_EQ(v.exit_code, 0) << v.err;
}

// pinentry-tty gives up after SETTIMEOUT: its own words ("Timeout"), not "cancelled".
TEST(PinentryTty, ATimeoutIsToldInThePinentrysWords) {
  int master = -1, slave = -1;
  char name[64];
  ASSERT_EQ(::openpty(&master, &slave, name, nullptr, nullptr), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("GPG_TTY", name, 1);
    cli::PinRequest r = request();
    r.timeout = std::chrono::seconds(1);
    try {
      cli::read_pin_with_pinentry("pinentry-tty", r);
      _exit(1);
    } catch (const Error& e) {
      std::string what = e.what();
      std::fprintf(stderr, "%s\n", what.c_str());
      _exit(what.find("failed: Timeout") != std::string::npos && what.find("cancel") == std::string::npos ? 0 : 2);
    }
  }
  std::string screen = read_until(master, "PIN:");
  EXPECT_NE(screen.find("PIN:"), std::string::npos) << screen;
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ::close(master);
  ::close(slave);
}

}  // namespace
}  // namespace catsign::testing
