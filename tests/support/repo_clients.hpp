// SPDX-License-Identifier: Apache-2.0
// Package repositories built with the distributions' own tools (tests/support/make-repo) and
// their real clients, apt-get, dnf and pacman, each with private state in a temporary folder:
// nothing reads or writes the host's own apt, dnf or pacman configuration, and repositories are
// reached through file:// only. The client configuration is the README's (its sections on apt,
// rpm and pacman repositories), with the URLs and paths pointed at the test's folders, so the
// README's instructions are what the tests prove.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "process.hpp"

namespace catsign::testing {

// make-repo apt|rpm|pacman DIR: one package and its index (a second call adds version 1.1).
void make_repo(const std::string& kind, const std::filesystem::path& dir);

// The lines of the README's fenced code block that has a line starting with `first_line`.
std::vector<std::string> readme_block(const std::string& first_line);

// apt-get update against file:<repo> with `keyring` (an armored certificate) as signed-by,
// the sources line as the README writes it.
class AptClient {
 public:
  AptClient(const std::filesystem::path& repo, const std::filesystem::path& keyring);
  RunResult update() const;                           // apt-get update
  RunResult policy(const std::string& package) const;  // apt-cache policy PACKAGE
  // update() succeeded without a warning, and apt-cache policy offers `version` from the repo.
  ::testing::AssertionResult accepts(const std::string& version) const;
  std::string sources_line() const { return sources_; }

 private:
  RunResult apt(const std::string& tool, const std::vector<std::string>& args) const;
  TempDir dir_;
  std::string sources_;
};

// dnf makecache against file://<baseurl> with the README's .repo section (repo_gpgcheck=1,
// skip_if_unavailable=0), gpgkey=file://<key>.
class DnfClient {
 public:
  DnfClient(const std::filesystem::path& baseurl, const std::filesystem::path& key);
  RunResult makecache() const;
  // dnf exits 0 when it merely skips a repository, so success is what it wrote: the
  // repository's cached repomd.xml and its signature, and its solv cache.
  bool cached() const;
  ::testing::AssertionResult accepts() const;

 private:
  TempDir dir_;
};

// A pacman keyring (pacman-key --init, then the README's --add and --lsign-key) and pacman -Sy
// against file://<server root> with the README's [catsign] section (SigLevel = Required
// DatabaseRequired), fresh databases per sync.
class PacmanClient {
 public:
  PacmanClient(const std::filesystem::path& server_root, const std::filesystem::path& cert);
  RunResult sync() const;  // pacman -Sy into a fresh --dbpath
  ::testing::AssertionResult accepts() const;

 private:
  TempDir dir_;
  std::filesystem::path server_root_;
};

}  // namespace catsign::testing
