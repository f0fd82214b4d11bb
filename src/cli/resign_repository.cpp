// SPDX-License-Identifier: Apache-2.0
#include "catsign/cli/resign_repository.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "catsign/catalog/beneath.hpp"
#include "catsign/cli/signing_session.hpp"
#include "catsign/error.hpp"
#include "catsign/repository/listed_files.hpp"
#include "catsign/repository/target.hpp"
#include "catsign/signing/pipeline.hpp"
#include "catsign/util/file.hpp"

namespace catsign::cli {

namespace {

namespace fs = std::filesystem;

enum class Outcome { pending, signed_, refused, failed };

// One index file, reached by one or more requests (a suite linked to another).
struct Index {
  std::vector<std::string> names;  // "debian:bookworm", in config order
  repository::Target target;       // the first request's
  fs::path dir;                    // canonical folder the signatures go in
  std::string file;                // the index's name in it, as the template names it
  fs::path real;                   // canonical path of the index itself
  struct stat st {};
  std::string text;
  Outcome outcome = Outcome::pending;
  std::string why;
  std::vector<std::string> written;
};

bool unchanged(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

bool beneath(const fs::path& path, const fs::path& root) {
  const fs::path rel = path.lexically_relative(root);
  return !rel.empty() && *rel.begin() != "..";
}

// Opens and reads each present index once; requests that reach the same index share it.
std::vector<Index> collect(const RepositoryConfig& repo, const catalog::Root& root, std::vector<std::string>& absent,
                           std::vector<std::pair<std::string, std::string>>& failures) {
  std::vector<Index> out;
  const fs::path root_real = fs::canonical(repo.root);
  for (repository::Target& t : repository::all_targets(repo)) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(repo.root / t.path, ec))) {
      absent.push_back(t.name + " (" + t.path + ")");
      continue;
    }
    try {
      catalog::OpenedFile f = catalog::open_beneath(root, t.path, repo.max_size);
      Index index;
      if (::fstat(f.fd.get(), &index.st) != 0) throw Error(Errc::io, t.path + ": fstat failed");
      index.dir = fs::canonical((repo.root / t.path).parent_path());
      index.file = fs::path(t.path).filename().string();
      index.real = fs::canonical(repo.root / t.path);
      struct stat real_st {};
      if (!beneath(index.dir, root_real) || !beneath(index.real, root_real) || ::stat(index.real.c_str(), &real_st) != 0 ||
          real_st.st_ino != index.st.st_ino || real_st.st_dev != index.st.st_dev)
        throw Error(Errc::refused, t.path + " changed while it was opened; run again");
      bool joined = false;
      for (Index& x : out) {
        if (x.dir == index.dir && x.file == index.file) {
          x.names.push_back(t.name);
          joined = true;
        }
      }
      if (joined) continue;
      read_fd_chunks(f.fd.get(), t.path, [&](ByteView chunk) {
        if (index.text.size() + chunk.size() > repo.max_size)
          throw Error(Errc::refused, t.path + " grew past max_size (" + std::to_string(repo.max_size) + " bytes)");
        index.text.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      });
      index.names.push_back(t.name);
      index.target = std::move(t);
      out.push_back(std::move(index));
    } catch (const Error& e) {
      failures.emplace_back(t.name, e.what());
    } catch (const fs::filesystem_error& e) {
      failures.emplace_back(t.name, e.what());
    }
  }
  return out;
}

void check_listed(Index& index, const catalog::Root& root) {
  try {
    repository::ListedReport report = repository::verify_listed_files(index.target, root, index.text);
    if (report.ok()) return;
    for (const repository::ListedResult& f : report.files)
      if (f.status != repository::ListedStatus::ok)
        std::printf("%s: %s: %s: %s\n", index.names.front().c_str(), f.path.c_str(),
                    repository::listed_status_name(f.status), f.detail.c_str());
    index.outcome = Outcome::refused;
    index.why = "verify_listed_files: " + report.summary();
  } catch (const Error& e) {
    if (e.code() == Errc::io) throw;
    index.outcome = Outcome::refused;
    index.why = std::string("verify_listed_files: the index does not parse, so what it lists can't be checked: ") +
                e.what();
  }
}

// One signature of the index's text, read in step one, written atomically through the one
// signing pipeline (docs/DESIGN.md "The path of one signature").
void write_signature(const fs::path& path, signing::Form form, const std::vector<signing::DocumentSigner*>& keys,
                     const openpgp::SignOptions& options, const std::string& text, mode_t mode) {
  write_file_atomically(
      path,
      [&](FileWriter& w) {
        signing::Job job(form, options, w);
        job.update(as_bytes(text));
        job.sign(keys);
      },
      mode);
}

void sign_index(Index& index, const std::vector<signing::DocumentSigner*>& keys) {
  struct stat now {};
  if (::stat(index.real.c_str(), &now) != 0 || !unchanged(index.st, now))
    throw Error(Errc::refused, index.real.string() + " changed since it was read; run again");
  openpgp::SignOptions options;
  options.hash = signing::hash_for(keys);
  for (const std::string& name : index.names) options.notations.push_back({openpgp::kCatalogNotation, name, true});
  const mode_t mode = index.st.st_mode & 0666;
  // What each format's clients fetch beside the index (README, "Signing apt, rpm and pacman
  // repositories").
  std::vector<std::pair<std::string, signing::Form>> outputs;
  switch (index.target.repository->format) {
    case RepositoryFormat::apt:
      outputs = {{"InRelease", signing::Form::cleartext}, {"Release.gpg", signing::Form::detached_armored}};
      break;
    case RepositoryFormat::rpm:
      outputs = {{index.file + ".asc", signing::Form::detached_armored}};
      break;
    case RepositoryFormat::pacman:
      outputs = {{index.file + ".sig", signing::Form::detached_binary}};
      break;
  }
  for (const auto& [name, form] : outputs) {
    write_signature(index.dir / name, form, keys, options, index.text, mode);
    index.written.push_back(name);
  }
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

int resign_repository(const Config& config, const std::string& name, std::optional<int> pin_fd) {
  auto it = config.repositories.find(name);
  if (it == config.repositories.end()) {
    std::vector<std::string> names;
    for (const auto& [n, r] : config.repositories) names.push_back(n);
    throw Error(Errc::usage, "no [repositories." + name + "] in " + config.path.string() + " (" +
                                 (names.empty() ? std::string("none is configured") : "configured: " + joined(names)) +
                                 "): nothing was signed");
  }
  const RepositoryConfig& repo = it->second;
  const std::vector<const KeyConfig*> key_configs = config.repository_keys(repo);
  const catalog::Root root(repo.root, "repository");
  std::vector<std::string> absent;
  std::vector<std::pair<std::string, std::string>> failures;
  std::vector<Index> indexes = collect(repo, root, absent, failures);
  if (indexes.empty() && failures.empty())
    throw Error(Errc::usage, "no index of [repositories." + name + "] exists under " + repo.root.string() + " (" +
                                 repo.path + "): nothing to sign");
  if (repo.verify_listed_files)
    for (Index& index : indexes) check_listed(index, root);

  std::size_t to_sign = 0;
  for (const Index& index : indexes) to_sign += index.outcome == Outcome::pending;
  std::string fingerprint;
  if (to_sign > 0) {
    SigningSession session(config, key_configs, pin_fd);
    const std::vector<signing::DocumentSigner*> keys = session.signers();
    fingerprint = session.describe_keys();
    bool token_failed = false;
    for (Index& index : indexes) {
      if (index.outcome != Outcome::pending) continue;
      if (token_failed) {
        index.outcome = Outcome::failed;
        index.why = "not attempted after the token failed";
        continue;
      }
      try {
        sign_index(index, keys);
        index.outcome = Outcome::signed_;
      } catch (const Error& e) {
        index.outcome = Outcome::failed;
        index.why = e.what();
        token_failed = e.code() == Errc::token;
      }
    }
  }

  std::size_t signed_count = 0, refused = 0, failed = failures.size();
  std::string first_problem;
  for (const std::string& a : absent) std::printf("absent %s\n", a.c_str());
  for (const auto& [n, why] : failures) {
    std::printf("skipped %s: %s\n", n.c_str(), why.c_str());
    if (first_problem.empty()) first_problem = n + ": " + why;
  }
  for (const Index& index : indexes) {
    const std::string names = joined(index.names);
    if (index.outcome == Outcome::signed_) {
      ++signed_count;
      std::printf("signed %s (%s in %s)\n", names.c_str(), joined(index.written).c_str(), index.dir.c_str());
    } else {
      ++(index.outcome == Outcome::refused ? refused : failed);
      std::printf("skipped %s: %s\n", names.c_str(), index.why.c_str());
      if (first_problem.empty()) first_problem = names + ": " + index.why;
    }
  }
  std::printf("%zu %s index%s signed, %zu refused by the listed-files check, %zu failed, %zu absent", signed_count,
              repository_format_name(repo.format), signed_count == 1 ? "" : "es", refused, failed, absent.size());
  if (!fingerprint.empty()) std::printf("; key%s %s", key_configs.size() == 1 ? "" : "s", fingerprint.c_str());
  if (!repo.verify_listed_files && repo.format != RepositoryFormat::pacman)
    std::printf("; listed files not checked (verify_listed_files = false)");
  std::printf("\n");
  std::fflush(stdout);
  if (refused + failed == 0) return 0;
  std::fprintf(stderr, "catsign: %zu of %zu indexes of %s not signed (first: %s); see the summary above\n",
               refused + failed, refused + failed + signed_count, name.c_str(), first_problem.c_str());
  return failed > 0 ? 1 : exit_code_for(Errc::refused);
}

}  // namespace catsign::cli
