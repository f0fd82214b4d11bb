// SPDX-License-Identifier: Apache-2.0
// ASCII armor: one block, every block, and the binary-or-armored entry point.
#include "catsign/openpgp/armor.hpp"
#include "fuzz.hpp"

using namespace catsign;
using namespace catsign::openpgp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  fuzz::expect_only_error([&] {
    Dearmored d = dearmor(text);
    // What decodes re-encodes to armor that decodes to the same bytes.
    Dearmored again = dearmor(armor(d.kind, d.data));
    if (again.kind != d.kind || again.data != d.data) fuzz::broken("dearmor(armor(x)) != x");
  });
  fuzz::expect_only_error([&] { dearmor_all(text); });
  (void)looks_armored(fuzz::as_view(data, size));
  for (ArmorKind kind : {ArmorKind::signature, ArmorKind::public_key, ArmorKind::message})
    fuzz::expect_only_error([&] { dearmor_if_needed(fuzz::as_view(data, size), kind); });
  return 0;
}
