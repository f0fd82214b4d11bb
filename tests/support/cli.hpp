// SPDX-License-Identifier: Apache-2.0
// What the interoperability tests share: the catsign binary under test, the throwaway token's
// PIN as a --pin-fd line, and the MD5 that OpenCSW catalogs list (computed by OpenSSL, not by
// the code under test).
#pragma once

#include <string>

#include "../token/softhsm_fixture.hpp"
#include "process.hpp"

namespace catsign::testing {

inline const std::string kCatsign = CATSIGN_BINARY;
inline const std::string kPinLine = std::string(SoftHsmToken::kUserPin) + "\n";

std::string md5_hex(const std::string& data);

}  // namespace catsign::testing
