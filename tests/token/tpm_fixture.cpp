// SPDX-License-Identifier: Apache-2.0
#include "tpm_fixture.hpp"

#include <sstream>
#include <stdexcept>

namespace catsign::testing {

namespace {

const std::string kSupport = std::string(CATSIGN_SOURCE_DIR) + "/tests/support/";

}  // namespace

TpmToken::TpmToken(std::string label) : label_(std::move(label)) {
  // The D-Bus socket lives in the folder: its path must fit a unix socket's (the script
  // refuses one over 90 bytes). TempDir is /tmp/catsign-test-XXXXXX.
  const std::string d = (dir() / "tpm").string();
  RunResult r = run({"bash", kSupport + "start-tpm-token", d, label_}, "",
                    {{"CATSIGN_TPM_SO_PIN", kSoPin}, {"CATSIGN_TPM_USER_PIN", kUserPin}});
  if (r.exit_code != 0) throw std::runtime_error("start-tpm-token failed: " + r.err + logs());
  // The env file is shell (printf %q): let bash read it.
  RunResult e = run({"bash", "-c",
                     ". \"$1\" && printf '%s\\n' \"$CATSIGN_TPM_MODULE\" \"$TPM2_PKCS11_STORE\" \"$TPM2_PKCS11_TCTI\" "
                     "\"$DBUS_SESSION_BUS_ADDRESS\"",
                     "bash", d + "/tpm-token.env"});
  std::istringstream lines(e.out);
  std::string store, tcti, bus;
  if (e.exit_code != 0 || !std::getline(lines, module_) || !std::getline(lines, store) || !std::getline(lines, tcti) ||
      !std::getline(lines, bus)) {
    run({"bash", kSupport + "stop-tpm-token", d});
    throw std::runtime_error("cannot read " + d + "/tpm-token.env: " + e.err);
  }
  env_ = {{"TPM2_PKCS11_STORE", store}, {"TPM2_PKCS11_TCTI", tcti}, {"DBUS_SESSION_BUS_ADDRESS", bus}};
}

TpmToken::~TpmToken() { run({"bash", kSupport + "stop-tpm-token", (dir() / "tpm").string()}); }

std::string TpmToken::logs() const {
  std::string out;
  for (const char* name : {"swtpm.log", "dbus.log", "abrmd.log", "init.log"}) {
    const auto p = dir() / "tpm" / name;
    if (std::filesystem::exists(p)) out += std::string("\n--- ") + name + "\n" + read_text(p);
  }
  return out;
}

}  // namespace catsign::testing
