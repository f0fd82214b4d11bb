// SPDX-License-Identifier: Apache-2.0
// The package gate (docs/DESIGN.md "Contract"): a catalog is signed only when every package it lists is
// present beneath the package root, has the size and md5 the catalog says, and carries a
// detached signature FILE.asc that verifies against the package keyring.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "catsign/catalog/beneath.hpp"
#include "catsign/catalog/opencsw_catalog.hpp"
#include "catsign/openpgp/certificate.hpp"

namespace catsign::catalog {

enum class PackageStatus { ok, missing, size_mismatch, md5_mismatch, unsigned_, bad_signature };
const char* package_status_name(PackageStatus s) noexcept;  // "ok", "missing", ..., "unsigned"

struct PackageResult {
  std::string file;
  std::size_t line = 0;
  PackageStatus status = PackageStatus::ok;
  std::string detail;  // why, for people: "size 1234, catalog says 1235"; signer; ...
};

struct GateReport {
  std::vector<PackageResult> packages;  // in catalog order
  bool ok() const noexcept;
  std::size_t failures() const noexcept;
  std::string summary(std::size_t max_named = 5) const;  // "3 of 12 packages fail: a.pkg.gz (missing), ..."
};

struct GateOptions {
  unsigned threads = 0;  // 0: one per core
  // Called after each package (from worker threads, serialised); for progress on a terminal.
  std::function<void(std::size_t done, std::size_t total)> progress;
};

// Checks every entry. Each package is `<directory>/<file>` opened beneath `root` (the same
// rules as catalogs: openat2 RESOLVE_BENEATH, regular file), so the usual links from a
// catalog's folder into <root>/allpkgs/ work while nothing outside the root is read. Each
// file is read once: the same pass gives its size, its md5 and the hash its signature
// covers. Signatures are matched to keyring certificates by issuer fingerprint or key ID;
// revoked certificates are not trusted.
//
// Statuses, in the order they are decided: missing (not openable beneath the root: absent, an
// escape, not a regular file; no read), size_mismatch (fstat, no read; or the file changed
// while read), md5_mismatch, unsigned (no FILE.asc), bad_signature (FILE.asc unparseable,
// signer not in the keyring, signer revoked, or it does not verify). Each certificate's RSA
// verifier is built once. An I/O failure other than a refusal (EIO, no openat2) is thrown
// as Error(io) after the workers stop.
GateReport check_packages(const OpenCswCatalog& catalog, const Root& root, const std::string& directory,
                          const std::vector<openpgp::Certificate>& keyring, const GateOptions& options = {});

// Reads a package keyring (armored or binary): several certificates (parse_keyring), and, in
// armored keyrings, revocation certificates as blocks of their own (what gpg --gen-revoke
// writes), each applied to the keyring certificate it names. A revocation that names a key in
// the keyring but does not verify is refused (Error(bad_signature)); one for another key is
// ignored.
std::vector<openpgp::Certificate> read_package_keyring(ByteView data);

}  // namespace catsign::catalog
