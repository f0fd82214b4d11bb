#include "catsign/error.hpp"

namespace catsign {

int exit_code_for(Errc code) noexcept {
  switch (code) {
    case Errc::usage: return 2;
    case Errc::locked: return 3;
    case Errc::hash_mismatch: return 4;
    case Errc::refused: return 5;
    case Errc::unreachable: return 6;
    default: return 1;
  }
}

}  // namespace catsign
