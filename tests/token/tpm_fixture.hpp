// SPDX-License-Identifier: Apache-2.0
// A throwaway tpm2-pkcs11 token for tests, as SoftHsmToken is a SoftHSM one: a fresh
// temporary folder, a private software TPM (swtpm on loopback), its resource manager on a
// D-Bus of its own and one initialised token, all made by tests/support/start-tpm-token (the
// script people use by hand) and ended by stop-tpm-token when the object goes. One token, one
// store, per object: tpm2-pkcs11's sqlite store does not take two key generations at once.
//
//   catsign::testing::TpmToken tpm;
//   run({kCatsign, "keygen", ...}, "", tpm.env(), &pin);
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "../support/process.hpp"

namespace catsign::testing {

class TpmToken {
 public:
  static constexpr const char* kSoPin = "11223344";
  static constexpr const char* kUserPin = "556677";

  explicit TpmToken(std::string label = "catsign-tpm");
  ~TpmToken();
  TpmToken(const TpmToken&) = delete;
  TpmToken& operator=(const TpmToken&) = delete;

  const std::string& label() const noexcept { return label_; }
  const std::string& module_path() const noexcept { return module_; }
  // What a process needs to reach the token: TPM2_PKCS11_STORE, TPM2_PKCS11_TCTI and
  // DBUS_SESSION_BUS_ADDRESS.
  const std::map<std::string, std::string>& env() const noexcept { return env_; }
  std::filesystem::path dir() const { return dir_.path(); }
  // The logs of the three daemons and the token's initialisation, for a failing test.
  std::string logs() const;

 private:
  TempDir dir_;
  std::string label_;
  std::string module_;
  std::map<std::string, std::string> env_;
};

}  // namespace catsign::testing
