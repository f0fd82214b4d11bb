// SPDX-License-Identifier: Apache-2.0
// Test vectors made by another implementation: a throwaway GnuPG home with freshly generated
// RSA keys, their exported certificates, and signatures gpg makes over sample texts. Made once
// per test process, in a temporary folder; the private keys never leave it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "catsign/util/bytes.hpp"
#include "../support/process.hpp"

namespace catsign::testing {

class GpgVectors {
 public:
  // The shared instance; generated on first use.
  static GpgVectors& get();
  ~GpgVectors();

  // gpg run against the home (adds --batch, --homedir, an empty passphrase).
  RunResult gpg(const std::vector<std::string>& args) const;
  // Writes `name` into the folder and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& content) const;
  // Runs gpg with `args` followed by `--output <dir>/out_name` and `input`; returns the output.
  std::string sign(const std::string& out_name, const std::vector<std::string>& args,
                   const std::filesystem::path& input) const;

  const std::filesystem::path& dir() const { return dir_.path(); }
  std::string fingerprint;        // of "Test <t@example.org>", from gpg --with-colons
  std::string other_fingerprint;  // of "Other <o@example.org>"
  std::string cert_armored;       // exported public key of Test
  Bytes cert_binary;
  std::string other_cert_armored;
  std::string revocation_armored;  // gpg's revocation certificate for Test (colon removed)

 private:
  GpgVectors();
  std::string generate(const std::string& uid);
  TempDir dir_;
  std::filesystem::path home_;
};

Bytes to_bytes(const std::string& s);
std::string to_string(ByteView b);
// The texts that break naive cleartext handling: leading '-', "From ", trailing blanks, CR LF, no final
// newline, empty.
std::vector<std::pair<std::string, std::string>> sample_texts();

}  // namespace catsign::testing
