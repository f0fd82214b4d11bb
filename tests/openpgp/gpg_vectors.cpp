// SPDX-License-Identifier: Apache-2.0
#include "gpg_vectors.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace catsign::testing {

Bytes to_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string to_string(ByteView b) { return std::string(b.begin(), b.end()); }

std::vector<std::pair<std::string, std::string>> sample_texts() {
  return {
      {"plain", "line one\nline two\n"},
      {"dashes", "-leading dash\n--double\n- dash space\n-----BEGIN PGP SIGNATURE-----\nend\n"},
      {"from", "From the start\nFrom: header-like\n >From quoted\n"},
      {"trailing", "trailing spaces   \ntrailing tab\t\nmixed \t \n   \nlast\n"},
      {"crlf", "dos line\r\nanother\r\n\r\nmixed\nend\r\n"},
      {"nofinal", "no final newline\nhere"},
      {"empty", ""},
      {"blank_lines", "\n\n\nafter blanks\n\n"},
      {"catalog", "# CREATIONDATE 2014-03-16T08:39:58Z\n"
                  "bash 4.2,REV=2011.04.11 CSWbash bash-4.2-SunOS5.8-sparc-CSW.pkg.gz "
                  "0123456789abcdef0123456789abcdef 123456 CSWcommon shells none\n"},
  };
}

GpgVectors& GpgVectors::get() {
  static GpgVectors instance;
  return instance;
}

GpgVectors::GpgVectors() : home_(dir_.path() / "gnupg") {
  std::filesystem::create_directory(home_);
  std::filesystem::permissions(home_, std::filesystem::perms::owner_all);
  fingerprint = generate("Test <t@example.org>");
  other_fingerprint = generate("Other <o@example.org>");
  cert_armored = gpg({"--armor", "--export", fingerprint}).out;
  cert_binary = to_bytes(gpg({"--export", fingerprint}).out);
  other_cert_armored = gpg({"--armor", "--export", other_fingerprint}).out;
  std::string rev = read_text(home_ / "openpgp-revocs.d" / (fingerprint + ".rev"));
  const std::size_t colon = rev.find(":-----BEGIN");
  if (colon == std::string::npos) throw std::runtime_error("gpg revocation has no marker");
  revocation_armored = rev.substr(colon + 1);
}

GpgVectors::~GpgVectors() {
  run({"gpgconf", "--homedir", home_.string(), "--kill", "gpg-agent"});
}

RunResult GpgVectors::gpg(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"gpg",           "--batch", "--no-tty",     "--homedir",
                                   home_.string(),  "--passphrase", "",        "--pinentry-mode",
                                   "loopback"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

std::string GpgVectors::generate(const std::string& uid) {
  RunResult r = gpg({"--quick-gen-key", uid, "rsa3072", "sign", "never"});
  if (r.exit_code != 0) throw std::runtime_error("gpg --quick-gen-key failed: " + r.err);
  RunResult list = gpg({"--with-colons", "--fingerprint", uid});
  // The first "fpr" record after "pub" is the primary key's: fpr:::::::::<FPR>:
  const std::size_t at = list.out.find("\nfpr:");
  if (at == std::string::npos) throw std::runtime_error("no fpr record: " + list.out);
  const std::size_t start = list.out.find_first_not_of(':', at + 5);
  return list.out.substr(start, list.out.find(':', start) - start);
}

std::filesystem::path GpgVectors::write(const std::string& name, const std::string& content) const {
  const auto path = dir_.path() / name;
  write_text(path, content);
  return path;
}

std::string GpgVectors::sign(const std::string& out_name, const std::vector<std::string>& args,
                             const std::filesystem::path& input) const {
  std::vector<std::string> all = {"--yes", "--local-user", fingerprint};
  all.insert(all.end(), args.begin(), args.end());
  const auto out = dir_.path() / out_name;
  all.insert(all.end(), {"--output", out.string(), input.string()});
  RunResult r = gpg(all);
  if (r.exit_code != 0) throw std::runtime_error("gpg signing failed: " + r.err);
  return read_text(out);
}

}  // namespace catsign::testing
