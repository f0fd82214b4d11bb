// SPDX-License-Identifier: Apache-2.0
#include "softhsm_fixture.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "catsign/token/pkcs11_uri.hpp"

extern char** environ;

namespace catsign::testing {

int run_command(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // Tools chatter on stdout ("Key pair generated", slot numbers); keep stderr for failures.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawnp " + argv[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string SoftHsmToken::make_token_script() {
  return std::string(CATSIGN_SOURCE_DIR) + "/softhsm-fixtures/make-token";
}

SoftHsmToken::SoftHsmToken(std::string label) : label_(std::move(label)) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "catsign-softhsm-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
  dir_ = tmpl;
  if (const char* old = std::getenv("SOFTHSM2_CONF")) previous_conf_ = old;
  // Set before running the script too: it exports its own, but nothing should ever touch the
  // system token folder by accident.
  setenv("SOFTHSM2_CONF", conf_path().c_str(), 1);
  int rc = run_command({"bash", make_token_script(), dir_.string(), label_, kSoPin, kUserPin});
  if (rc != 0) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw std::runtime_error("make-token failed with status " + std::to_string(rc));
  }
}

SoftHsmToken::~SoftHsmToken() {
  if (previous_conf_) {
    setenv("SOFTHSM2_CONF", previous_conf_->c_str(), 1);
  } else {
    unsetenv("SOFTHSM2_CONF");
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

SecureString SoftHsmToken::user_pin_secure() const {
  SecureString pin;
  for (char c : std::string_view(kUserPin)) pin.push_back(c);
  return pin;
}

std::string SoftHsmToken::key_uri(std::string_view object) const {
  std::string uri = "pkcs11:token=" + token::pkcs11_uri_encode(label_);
  if (!object.empty()) uri += ";object=" + token::pkcs11_uri_encode(object);
  return uri;
}

void SoftHsmToken::add_token(const std::string& label) const {
  int rc = run_command({"softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", kSoPin,
                        "--pin", kUserPin});
  if (rc != 0) throw std::runtime_error("softhsm2-util --init-token failed for label " + label);
}

void SoftHsmToken::generate_key_with_pkcs11_tool(const std::string& label, const std::string& id_hex,
                                                 const std::string& extra) const {
  std::vector<std::string> argv{"pkcs11-tool", "--module", module_path(), "--token-label", label_,
                                "--login",     "--pin",    kUserPin,      "--keypairgen",  "--key-type",
                                "rsa:2048",    "--label",  label,         "--id",          id_hex};
  if (!extra.empty()) argv.push_back(extra);
  int rc = run_command(argv);
  if (rc != 0) throw std::runtime_error("pkcs11-tool --keypairgen failed for " + label);
}

int pin_pipe(std::string_view contents) {
  int fds[2];
  if (pipe(fds) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  std::size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = write(fds[1], contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fds[0]);
      close(fds[1]);
      throw std::system_error(errno, std::generic_category(), "write to pipe");
    }
    done += static_cast<std::size_t>(n);
  }
  close(fds[1]);
  return fds[0];
}

}  // namespace catsign::testing
