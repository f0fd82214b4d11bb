// SPDX-License-Identifier: Apache-2.0
#include "catsign/repository/listed_files.hpp"

#include <botan/hash.h>

#include "catsign/error.hpp"
#include "catsign/repository/apt_release.hpp"
#include "catsign/repository/repomd.hpp"
#include "catsign/util/file.hpp"

namespace catsign::repository {

namespace {

constexpr std::size_t kMaxListedPath = 1024;
// Listed files are streamed, so the cap only bounds the work; each is read only when its size
// already matches what the index says.
constexpr std::uint64_t kMaxListedSize = std::uint64_t{64} << 30;

}  // namespace

bool listed_path_ok(std::string_view path) noexcept {
  if (path.empty() || path.size() > kMaxListedPath || path.front() == '/') return false;
  for (char c : path)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '\\') return false;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = path.find('/', start);
    std::string_view c = path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (c.empty() || c == "." || c == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

const char* listed_status_name(ListedStatus status) noexcept {
  switch (status) {
    case ListedStatus::ok: return "ok";
    case ListedStatus::missing: return "missing";
    case ListedStatus::size_mismatch: return "size_mismatch";
    case ListedStatus::hash_mismatch: return "hash_mismatch";
  }
  return "missing";
}

bool ListedReport::ok() const noexcept { return failures() == 0; }

std::size_t ListedReport::failures() const noexcept {
  std::size_t n = 0;
  for (const ListedResult& f : files) n += f.status != ListedStatus::ok;
  return n;
}

std::string ListedReport::summary(std::size_t max_named) const {
  const std::size_t failed = failures();
  if (failed == 0) return "all " + std::to_string(files.size()) + " files " + index + " lists match the tree";
  std::string out = std::to_string(failed) + " of " + std::to_string(files.size()) + " files " + index +
                    " lists do not match the tree: ";
  std::size_t named = 0;
  for (const ListedResult& f : files) {
    if (f.status == ListedStatus::ok) continue;
    if (named == max_named) {
      out += ", ...";
      break;
    }
    out += (named++ ? ", " : "") + f.path + " (" + listed_status_name(f.status) + ": " + f.detail + ")";
  }
  return out + "; nothing was signed: rebuild the index from the files that are there";
}

ListedReport check_listed_files(const catalog::Root& root, std::string_view base, std::string_view index,
                                const std::vector<ListedFile>& files) {
  ListedReport report;
  report.index = std::string(index);
  for (const ListedFile& f : files) {
    ListedResult r;
    r.path = f.path;
    const std::string path = base.empty() ? f.path : std::string(base) + "/" + f.path;
    catalog::OpenedFile file;
    try {
      file = catalog::open_beneath(root, path, kMaxListedSize);
    } catch (const Error& e) {
      if (e.code() != Errc::refused) throw;
      r.status = ListedStatus::missing;
      r.detail = e.what();
      report.files.push_back(std::move(r));
      continue;
    }
    if (file.size != f.size) {
      r.status = ListedStatus::size_mismatch;
      r.detail = "size " + std::to_string(file.size) + ", the index says " + std::to_string(f.size);
      report.files.push_back(std::move(r));
      continue;
    }
    auto hash = Botan::HashFunction::create_or_throw(f.hash);
    // Never past the listed size: a file that grows while it is read is no longer the one its
    // size said, and reading on would be work without bound.
    const std::uint64_t read = read_fd_chunks_up_to(file.fd.get(), path, f.size, [&](ByteView chunk) {
      hash->update(chunk.data(), chunk.size());
    });
    Bytes digest = hash->final_stdvec();
    if (read != f.size) {
      r.status = ListedStatus::size_mismatch;
      r.detail = "changed while read: " + (read > f.size ? "more than " + std::to_string(f.size)
                                                            : std::to_string(read)) +
                 " bytes, the index says " + std::to_string(f.size);
    } else if (digest != f.digest) {
      r.status = ListedStatus::hash_mismatch;
      r.detail = f.hash + " " + to_hex(digest) + ", the index says " + to_hex(f.digest);
    }
    report.files.push_back(std::move(r));
  }
  return report;
}

ListedReport verify_listed_files(const Target& target, const catalog::Root& root, std::string_view index_text) {
  switch (target.repository->format) {
    case RepositoryFormat::apt:
      return check_listed_files(root, target.listed_base, "Release", parse_apt_release(index_text));
    case RepositoryFormat::rpm:
      return check_listed_files(root, target.listed_base, "repomd.xml", parse_repomd(index_text));
    case RepositoryFormat::pacman: break;
  }
  throw Error(Errc::internal, "a pacman database has no listed-files check");
}

}  // namespace catsign::repository
