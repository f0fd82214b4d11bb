// SPDX-License-Identifier: Apache-2.0
// catsignd: one process that owns the only PKCS#11 context. Starts locked; a person unlocks.
#pragma once

namespace catsign::daemon {

// The whole daemon: arguments, configuration, sockets, the unlock window, until SIGTERM.
int run_daemon(int argc, char** argv);

}  // namespace catsign::daemon
