// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/daemon.hpp"

int main(int argc, char** argv) { return catsign::daemon::run_daemon(argc, argv); }
