// One error type for the whole core library, carrying a code that maps to the exit codes of
// the interface contract (DESIGN.md §4), rather than a deep exception tree.
#pragma once

#include <stdexcept>
#include <string>

namespace catsign {

enum class Errc {
  usage,          // bad command line or configuration            -> exit 2
  locked,         // a person must unlock                         -> exit 3
  hash_mismatch,  // the file is not the one the client asked for -> exit 4
  refused,        // not allowed, unknown catalog, policy         -> exit 5
  unreachable,    // daemon not reachable                         -> exit 6
  malformed,      // input that does not parse                    -> exit 1
  unsupported,    // valid OpenPGP we do not handle (DSA, v3, ...) -> exit 1
  bad_signature,  // a signature that does not verify             -> exit 1
  token,          // PKCS#11 token or module failure              -> exit 1
  io,             // file system failure                          -> exit 1
  internal,       // a bug                                        -> exit 1
};

class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

// The process exit code of a client command for an error of this kind (DESIGN.md §4).
int exit_code_for(Errc code) noexcept;

}  // namespace catsign
