// SPDX-License-Identifier: Apache-2.0
#include "catsign/openpgp/certificate_file.hpp"

#include "catsign/error.hpp"
#include "catsign/util/file.hpp"

namespace catsign::openpgp {

Certificate read_certificate_file(const std::filesystem::path& path) {
  Bytes data = read_file(path, 1 << 20);
  try {
    return parse_certificate(data);
  } catch (const Error& e) {
    throw Error(e.code(), path.string() + ": " + e.what());
  }
}

}  // namespace catsign::openpgp
