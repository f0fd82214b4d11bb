// SPDX-License-Identifier: Apache-2.0
// catsign resign --repository NAME: every index of a [repositories.NAME] section signed in one
// login, without the daemon, in the forms its clients read (README, "Signing apt, rpm and
// pacman repositories"): apt's InRelease and armored Release.gpg, rpm's armored repomd.xml.asc,
// pacman's binary <repo>.db.sig. The daemon's rules hold: allowed values only, opened beneath the
// root, a regular file within max_size, read once, the catalog@catsign notation naming each
// request that reaches it, and verify_listed_files before the PIN is asked for.
#pragma once

#include <optional>
#include <string>

#include "catsign/config.hpp"

namespace catsign::cli {

// Exit status: 0 when every present index was signed; 5 when the listed-files check refused
// some and nothing else failed; 1 when any failed otherwise (unreadable, changed, token);
// Error(usage) for an unknown repository or when no index exists.
int resign_repository(const Config& config, const std::string& name, std::optional<int> pin_fd);

}  // namespace catsign::cli
