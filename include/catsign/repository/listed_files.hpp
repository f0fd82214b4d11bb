// SPDX-License-Identifier: Apache-2.0
// verify_listed_files (docs/DESIGN.md "Listed files"): what a repository index lists is what is on
// disk. An apt Release lists its Packages files, an rpm repomd.xml its primary/filelists/other
// files, each with a size and a hash; a client that fetches the index checks those files against
// it, so an index signed while they disagree is a broken repository for everyone. The daemon checks
// them from the same tree before it signs, the package gate's idea for these formats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catsign/catalog/beneath.hpp"
#include "catsign/repository/target.hpp"
#include "catsign/util/bytes.hpp"

namespace catsign::repository {

// One file an index lists, as the index says it.
struct ListedFile {
  std::string path;       // relative to the index's listed_base; checked plain (listed_path_ok)
  std::uint64_t size = 0;
  std::string hash;       // Botan's name: "SHA-256", "SHA-512"
  Bytes digest;
  std::size_t line = 0;   // where the index names it, for messages
};

// A relative path an index may list: 1 to 1024 bytes of printable ASCII other than space and
// '\', no leading '/', no empty, "." or ".." component. Anything else is refused by the
// parsers as malformed, before the tree is touched.
bool listed_path_ok(std::string_view path) noexcept;

enum class ListedStatus { ok, missing, size_mismatch, hash_mismatch };
const char* listed_status_name(ListedStatus status) noexcept;  // "ok", "missing", ...

struct ListedResult {
  std::string path;  // as listed
  ListedStatus status = ListedStatus::ok;
  std::string detail;  // for people: "size 468, the index says 469"
};

struct ListedReport {
  std::string index;  // "Release", "repomd.xml": what listed the files, for messages
  std::vector<ListedResult> files;  // in index order
  bool ok() const noexcept;
  std::size_t failures() const noexcept;
  // "2 of 6 files Release lists do not match the tree: main/binary-all/Packages (hash_mismatch:
  // ...), ...: nothing was signed; rebuild the index"
  std::string summary(std::size_t max_named = 3) const;
};

// Checks each file: `<base>/<path>` opened beneath `root` (openat2 RESOLVE_BENEATH, a regular
// file), its size from fstat first, then its hash from one streamed read. Missing covers
// anything open_beneath refuses (absent, an escape, not a regular file). Other I/O failures
// are thrown as Error(io).
ListedReport check_listed_files(const catalog::Root& root, std::string_view base, std::string_view index,
                                const std::vector<ListedFile>& files);

// The index's own parser for the target's format, then check_listed_files. Error(malformed)
// when the index does not parse (nothing can be checked, so nothing may be signed); a pacman
// database has no listed-files check (the config refuses one).
ListedReport verify_listed_files(const Target& target, const catalog::Root& root, std::string_view index_text);

}  // namespace catsign::repository
