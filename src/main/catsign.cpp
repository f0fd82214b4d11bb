// SPDX-License-Identifier: Apache-2.0
#include "catsign/cli/main.hpp"

int main(int argc, char** argv) { return catsign::cli::main(argc, argv); }
