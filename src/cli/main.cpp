#include "catsign/cli/main.hpp"

namespace catsign::cli {

int main(int, char**) { return 0; }

}  // namespace catsign::cli
