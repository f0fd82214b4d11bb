// SPDX-License-Identifier: Apache-2.0
// A throwaway SoftHSM2 token for tests: a fresh temporary folder, a config pointing at it, one
// initialised token (made by softhsm-fixtures/make-token, the same script people use by hand),
// and SOFTHSM2_CONF set for the life of the object. Everything is removed afterwards.
//
//   catsign::testing::SoftHsmToken hsm;                      // label "catsign"
//   auto token = catsign::token::Token::open(hsm.module_path(), hsm.key_uri("catalog"));
//   token.login(hsm.user_pin_secure());
//
// For child processes (the catsign binary), SOFTHSM2_CONF is inherited from the environment;
// hsm.env() gives "SOFTHSM2_CONF=..." for an explicit environment, and pin_pipe() gives an fd
// to pass as --pin-fd.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catsign/util/secure_string.hpp"

namespace catsign::testing {

class SoftHsmToken {
 public:
  static constexpr const char* kSoPin = "12345678";
  static constexpr const char* kUserPin = "123456";

  explicit SoftHsmToken(std::string label = "catsign");
  ~SoftHsmToken();
  SoftHsmToken(const SoftHsmToken&) = delete;
  SoftHsmToken& operator=(const SoftHsmToken&) = delete;

  const std::filesystem::path& dir() const noexcept { return dir_; }
  std::string conf_path() const { return (dir_ / "softhsm2.conf").string(); }
  std::filesystem::path token_dir() const { return dir_ / "tokens"; }
  static std::string module_path() { return "/usr/lib/softhsm/libsofthsm2.so"; }
  static std::string make_token_script();  // <source>/softhsm-fixtures/make-token

  const std::string& label() const noexcept { return label_; }
  std::string so_pin() const { return kSoPin; }
  std::string user_pin() const { return kUserPin; }
  SecureString user_pin_secure() const;
  std::string env() const { return "SOFTHSM2_CONF=" + conf_path(); }

  // "pkcs11:token=<label>;object=<object>" (percent-encoded); no object= when empty.
  std::string key_uri(std::string_view object = "") const;

  // Initialises one more token, with its own label, in the same token folder.
  void add_token(const std::string& label) const;

  // Generates an RSA key on the token with `pkcs11-tool --keypairgen` (independently of
  // catsign's own keygen), e.g. to test key lookup. Extra arguments are appended verbatim.
  void generate_key_with_pkcs11_tool(const std::string& label, const std::string& id_hex,
                                     const std::string& extra = "") const;

 private:
  std::filesystem::path dir_;
  std::string label_;
  std::optional<std::string> previous_conf_;
};

// A pipe whose read end holds `contents` (then EOF); returns the read end, which the callee
// owns (read_pin closes it). The write end is already closed.
int pin_pipe(std::string_view contents);

// Runs argv (no shell, PATH lookup) and returns its exit status; stdout is discarded,
// stderr goes to the test log.
int run_command(const std::vector<std::string>& argv);

}  // namespace catsign::testing
