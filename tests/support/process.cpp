// SPDX-License-Identifier: Apache-2.0
#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace catsign::testing {

namespace {

void set_cloexec(int fd) { ::fcntl(fd, F_SETFD, FD_CLOEXEC); }

}  // namespace

RunResult run(const std::vector<std::string>& argv, const std::string& input,
              const std::map<std::string, std::string>& env, const std::string* extra_fd_input) {
  int in[2], out[2], err[2], extra[2] = {-1, -1};
  if (::pipe(in) || ::pipe(out) || ::pipe(err)) throw std::runtime_error("pipe failed");
  if (extra_fd_input && ::pipe(extra)) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    if (extra_fd_input) ::dup2(extra[0], 3);
    for (int fd = 4; fd < 1024; ++fd) ::close(fd);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (extra_fd_input) {
    ::close(extra[0]);
    (void)!::write(extra[1], extra_fd_input->data(), extra_fd_input->size());
    ::close(extra[1]);
  }
  set_cloexec(in[1]);
  // Feed stdin and drain both outputs together so that no side blocks on a full pipe.
  RunResult r;
  std::size_t written = 0;
  ::fcntl(in[1], F_SETFL, O_NONBLOCK);
  if (input.empty()) { ::close(in[1]); in[1] = -1; }
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    pollfd fds[3] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0},
                     {in[1], POLLOUT, 0}};
    ::poll(fds, 3, -1);
    if (in[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = ::write(in[1], input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 || written == input.size()) { ::close(in[1]); in[1] = -1; }
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          ::close(fds[i].fd);
          (i == 0 ? out_open : err_open) = false;
        } else {
          (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
        }
      }
    }
  }
  if (in[1] >= 0) ::close(in[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "catsign-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

GpgHome::GpgHome(const std::filesystem::path& cert_file) {
  std::filesystem::permissions(dir_.path(), std::filesystem::perms::owner_all);
  RunResult r = gpg({"--import", cert_file.string()});
  if (r.exit_code != 0) throw std::runtime_error("gpg --import failed: " + r.err);
}

RunResult GpgHome::gpg(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"gpg", "--batch", "--no-tty", "--homedir", dir_.path().string(),
                                   "--trust-model", "always"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

RunResult GpgHome::verify(const std::vector<std::string>& args) const {
  std::vector<std::string> a = {"--status-fd", "1", "--verify"};
  a.insert(a.end(), args.begin(), args.end());
  return gpg(a);
}

}  // namespace catsign::testing
