// SPDX-License-Identifier: Apache-2.0
// Reading a certificate from a file, with errors that name the file.
#pragma once

#include <filesystem>

#include "catsign/openpgp/certificate.hpp"

namespace catsign::openpgp {

// Armored or binary, at most 1 MiB; Error(io) or the parser's error, prefixed with the path.
Certificate read_certificate_file(const std::filesystem::path& path);

}  // namespace catsign::openpgp
