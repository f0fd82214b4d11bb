// SPDX-License-Identifier: Apache-2.0
// The catsign command line: parses arguments and dispatches to one subcommand.
#pragma once

namespace catsign::cli {

// Returns the process exit code (docs/DESIGN.md "Contract"); prints one line to stderr on failure.
int main(int argc, char** argv);

}  // namespace catsign::cli
