// SPDX-License-Identifier: Apache-2.0
// Running real clients (gpg, sqv, sq, catsign itself) from tests, and throwaway folders.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace catsign::testing {

struct RunResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in PATH) with `input` on stdin; `env` entries are added to the
// environment. `extra_fd_input`, when set, is readable in the child on descriptor 3 (for
// --pin-fd 3).
RunResult run(const std::vector<std::string>& argv, const std::string& input = "",
              const std::map<std::string, std::string>& env = {},
              const std::string* extra_fd_input = nullptr);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::string read_text(const std::filesystem::path& p);
void write_text(const std::filesystem::path& p, const std::string& text);

// A GnuPG home with `cert_file` imported, for gpg --verify.
class GpgHome {
 public:
  explicit GpgHome(const std::filesystem::path& cert_file);
  RunResult verify(const std::vector<std::string>& args) const;  // gpg --verify args...
  RunResult gpg(const std::vector<std::string>& args) const;
  const std::filesystem::path& path() const { return dir_.path(); }

 private:
  TempDir dir_;
};

}  // namespace catsign::testing
