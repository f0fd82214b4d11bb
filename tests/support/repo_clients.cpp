// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <unistd.h>

#include "repo_clients.hpp"

#include <sstream>
#include <stdexcept>

namespace catsign::testing {

namespace {

namespace fs = std::filesystem;

const std::string kSource = CATSIGN_SOURCE_DIR;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

std::string value_after(const std::string& line, const std::string& key) {
  return line.rfind(key, 0) == 0 ? line.substr(key.size()) : std::string();
}

// "name=value" lines of an ini block, the values of `keys` replaced.
std::string ini_with(const std::vector<std::string>& block, const std::map<std::string, std::string>& values) {
  std::string out;
  for (std::string line : block) {
    for (const auto& [key, value] : values)
      if (line.rfind(key, 0) == 0) line = key + value;
    out += line + "\n";
  }
  return out;
}

// pacman and pacman-key refuse to run unless root; fakeroot lets a non-root test run them on
// their private folders.
std::vector<std::string> as_root(std::vector<std::string> argv) {
  if (::geteuid() != 0) argv.insert(argv.begin(), "fakeroot");
  return argv;
}

std::string describe(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

}  // namespace

void make_repo(const std::string& kind, const fs::path& dir) {
  RunResult r = run({"bash", kSource + "/tests/support/make-repo", kind, dir.string()});
  if (r.exit_code != 0) throw std::runtime_error("make-repo " + kind + " failed: " + r.err);
}

std::vector<std::string> readme_block(const std::string& first_line) {
  std::istringstream in(read_text(kSource + "/README.md"));
  std::vector<std::string> block;
  bool inside = false, found = false;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      if (inside && found) return block;
      inside = !inside;
      block.clear();
      continue;
    }
    if (!inside) continue;
    block.push_back(line);
    if (line.rfind(first_line, 0) == 0) found = true;
  }
  throw std::runtime_error("README.md has no code block with a line starting '" + first_line + "'");
}

// --- apt --------------------------------------------------------------------------------------

AptClient::AptClient(const fs::path& repo, const fs::path& keyring) {
  const fs::path d = dir_.path();
  for (const char* sub : {"etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/apt.conf.d", "etc/apt/keyrings",
                          "state/lists/partial", "cache/archives/partial", "log"})
    fs::create_directories(d / sub);
  write_text(d / "status", "");
  // The README's keyring location and sources line, under this folder and pointing at file:.
  fs::copy_file(keyring, d / "etc/apt/keyrings/catsign.asc");
  std::vector<std::string> block = readme_block("deb [signed-by=");
  sources_ = replace_all(replace_all(block.at(0), "/etc/apt/keyrings/", (d / "etc/apt/keyrings").string() + "/"),
                         "https://apt.example.org", "file:" + repo.string());
  write_text(d / "etc/apt/sources.list", sources_ + "\n");
  // APT_CONFIG replaces apt.conf; every folder apt writes to is this one's.
  write_text(d / "apt.conf", "Dir::State \"" + (d / "state").string() + "\";\nDir::State::status \"" +
                                 (d / "status").string() + "\";\nDir::Cache \"" + (d / "cache").string() +
                                 "\";\nDir::Etc \"" + (d / "etc/apt").string() + "\";\nDir::Log \"" +
                                 (d / "log").string() + "\";\nAPT::Sandbox::User \"root\";\n"
                                 "Acquire::Languages \"none\";\n");
}

RunResult AptClient::apt(const std::string& tool, const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {tool};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, "", {{"APT_CONFIG", (dir_.path() / "apt.conf").string()}, {"LC_ALL", "C"}});
}

RunResult AptClient::update() const { return apt("apt-get", {"update"}); }
RunResult AptClient::policy(const std::string& package) const { return apt("apt-cache", {"policy", package}); }

::testing::AssertionResult AptClient::accepts(const std::string& version) const {
  RunResult u = update();
  if (u.exit_code != 0) return ::testing::AssertionFailure() << "apt-get update failed: " << describe(u);
  // apt reports a bad or missing signature on stderr as W: or E: lines.
  if (u.err.find("W:") != std::string::npos || u.err.find("E:") != std::string::npos)
    return ::testing::AssertionFailure() << "apt-get update complained: " << describe(u);
  RunResult p = policy("catsign-hello");
  if (p.out.find("Candidate: " + version) == std::string::npos)
    return ::testing::AssertionFailure() << "apt-cache policy does not offer " << version << ": " << describe(p);
  return ::testing::AssertionSuccess();
}

// --- dnf --------------------------------------------------------------------------------------

DnfClient::DnfClient(const fs::path& baseurl, const fs::path& key) {
  const fs::path d = dir_.path();
  for (const char* sub : {"repos.d", "root", "cache"}) fs::create_directories(d / sub);
  write_text(d / "dnf.conf", "[main]\nreposdir=" + (d / "repos.d").string() + "\ncachedir=" + (d / "cache").string() +
                                 "\nlogdir=" + (d / "log").string() + "\npersistdir=" + (d / "persist").string() +
                                 "\nplugins=0\n");
  std::vector<std::string> block = readme_block("repo_gpgcheck=");
  write_text(d / "repos.d/catsign.repo",
             ini_with(block, {{"baseurl=", "file://" + baseurl.string()}, {"gpgkey=", "file://" + key.string()}}));
}

RunResult DnfClient::makecache() const {
  const fs::path d = dir_.path();
  return run({"dnf", "-c", (d / "dnf.conf").string(), "--installroot", (d / "root").string(), "--releasever", "9",
              "--setopt=reposdir=" + (d / "repos.d").string(), "--setopt=cachedir=" + (d / "cache").string(),
              "--disableplugin=*", "-y", "makecache"},
             "", {{"LC_ALL", "C.UTF-8"}});
}

bool DnfClient::cached() const {
  bool repomd = false, signature = false, solv = false;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir_.path() / "cache", ec)) {
    const std::string name = e.path().filename().string();
    repomd = repomd || (name == "repomd.xml" && e.path().parent_path().filename() == "repodata");
    signature = signature || name == "repomd.xml.asc";
    solv = solv || name == "catsign.solv";
  }
  return repomd && signature && solv;
}

::testing::AssertionResult DnfClient::accepts() const {
  RunResult r = makecache();
  if (r.exit_code != 0) return ::testing::AssertionFailure() << "dnf makecache failed: " << describe(r);
  if (r.err.find("Ignoring repositories") != std::string::npos || r.err.find("Failed") != std::string::npos)
    return ::testing::AssertionFailure() << "dnf skipped the repository: " << describe(r);
  if (r.out.find("Metadata cache created") == std::string::npos || !cached())
    return ::testing::AssertionFailure() << "dnf wrote no cache for the repository: " << describe(r);
  return ::testing::AssertionSuccess();
}

// --- pacman -----------------------------------------------------------------------------------

PacmanClient::PacmanClient(const fs::path& server_root, const fs::path& cert) : server_root_(server_root) {
  const fs::path d = dir_.path();
  const std::string gpgdir = (d / "gnupg").string();
  fs::create_directories(d / "gnupg");
  fs::create_directories(d / "root");
  RunResult r = run(as_root({"pacman-key", "--gpgdir", gpgdir, "--init"}));
  if (r.exit_code != 0) throw std::runtime_error("pacman-key --init failed: " + describe(r));
  // The fingerprint, as gpg --show-keys gives it.
  RunResult show = run({"gpg", "--batch", "--homedir", gpgdir, "--with-colons", "--show-keys", cert.string()});
  std::string fingerprint;
  std::istringstream lines(show.out);
  for (std::string line; fingerprint.empty() && std::getline(lines, line);) {
    if (line.rfind("fpr:", 0) != 0) continue;
    std::vector<std::string> fields;
    std::istringstream f(line);
    for (std::string field; std::getline(f, field, ':');) fields.push_back(field);
    if (fields.size() > 9) fingerprint = fields[9];  // field 10 (gpg's doc/DETAILS)
  }
  if (fingerprint.size() != 40) throw std::runtime_error("no fingerprint in gpg --show-keys: " + describe(show));
  // The README's two commands, with --gpgdir for this keyring.
  for (const std::string& line : readme_block("pacman-key --add")) {
    std::istringstream words(line);
    std::vector<std::string> argv;
    for (std::string w; words >> w;) argv.push_back(w);
    if (argv.size() != 3 || argv[0] != "pacman-key") continue;
    if (argv[2] == "catalog-2026.asc") argv[2] = cert.string();
    if (argv[2] == "\"$fingerprint\"") argv[2] = fingerprint;
    argv.insert(argv.begin() + 1, {"--gpgdir", gpgdir});
    r = run(as_root(argv));
    if (r.exit_code != 0) throw std::runtime_error(line + " failed: " + describe(r));
  }
  // The README's [catsign] section, its server pointed at file://.
  std::string section;
  for (const std::string& line : readme_block("SigLevel = ")) {
    std::string server = value_after(line, "Server = ");
    if (server.empty()) {
      section += line + "\n";
      continue;
    }
    section += "Server = file://" + server_root.string() + server.substr(server.find("/$repo")) + "\n";
  }
  write_text(d / "pacman.conf", "[options]\nRootDir = " + (d / "root").string() + "\nDBPath = " + (d / "db").string() +
                                    "\nCacheDir = " + (d / "cache").string() + "\nLogFile = " +
                                    (d / "pacman.log").string() + "\nGPGDir = " + gpgdir + "\nHookDir = " +
                                    (d / "hooks").string() + "\nArchitecture = x86_64\n\n" + section);
}

RunResult PacmanClient::sync() const {
  const fs::path d = dir_.path();
  std::error_code ec;
  fs::remove_all(d / "db", ec);
  fs::create_directories(d / "db");
  return run(as_root({"pacman", "--config", (d / "pacman.conf").string(), "--dbpath", (d / "db").string(),
                      "--gpgdir", (d / "gnupg").string(), "--noconfirm", "-Sy"}),
             "", {{"LC_ALL", "C"}});
}

::testing::AssertionResult PacmanClient::accepts() const {
  RunResult r = sync();
  if (r.exit_code != 0) return ::testing::AssertionFailure() << "pacman -Sy failed: " << describe(r);
  if (r.err.find("error") != std::string::npos || !fs::is_regular_file(dir_.path() / "db/sync/catsign.db"))
    return ::testing::AssertionFailure() << "pacman did not take the database: " << describe(r);
  return ::testing::AssertionSuccess();
}

}  // namespace catsign::testing
