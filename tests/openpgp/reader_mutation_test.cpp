// SPDX-License-Identifier: Apache-2.0
// Deterministic random mutations of gpg-made inputs through every reader: each must end in a
// catsign Error or a result, never a crash or another exception (run under ASan/UBSan too).
#include <gtest/gtest.h>

#include <random>

#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/certificate.hpp"
#include "catsign/openpgp/cleartext.hpp"
#include "catsign/openpgp/verify.hpp"
#include "gpg_vectors.hpp"

namespace catsign::openpgp {
namespace {

using testing::GpgVectors;
using testing::to_bytes;

Bytes mutate(Bytes b, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int k = 0; k < edits && !b.empty(); ++k) {
    const std::size_t at = rng() % b.size();
    switch (rng() % 5) {
      case 0: b[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
      case 1: b[at] = static_cast<std::uint8_t>(rng()); break;
      case 2: b.erase(b.begin() + static_cast<std::ptrdiff_t>(at)); break;
      case 3: b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), static_cast<std::uint8_t>(rng())); break;
      default: b.resize(at); break;
    }
  }
  return b;
}

template <typename F>
void survive(F&& f) {
  try {
    f();
  } catch (const Error&) {
  }
}

TEST(VerifyMutation, ReadersNeverCrashOnMutatedInput) {
  const auto& v = GpgVectors::get();
  const Certificate cert = parse_certificate(v.cert_binary);
  const std::string text = "mutation data\n-dash\n";
  auto path = v.write("mut", text);
  const Bytes sig_bin = to_bytes(v.sign("mut.sig", {"--detach-sign"}, path));
  const Bytes sig_asc = to_bytes(v.sign("mut.asc", {"--detach-sign", "--armor"}, path));
  const Bytes clear = to_bytes(v.sign("mut.clear", {"--clearsign"}, path));
  const Bytes cert_asc = to_bytes(v.cert_armored);
  std::mt19937 rng(4880);
  for (int round = 0; round < 600; ++round) {
    const Bytes a = mutate(v.cert_binary, rng);
    survive([&] { parse_keyring(a, round % 2 == 0); });
    const Bytes b = mutate(cert_asc, rng);
    survive([&] { parse_certificate(b); });
    const Bytes c = mutate(sig_bin, rng);
    survive([&] { verify_detached(cert, c, to_bytes(text)); });
    const Bytes d = mutate(sig_asc, rng);
    survive([&] { verify_detached(cert, d, to_bytes(text)); });
    const Bytes e = mutate(clear, rng);
    survive([&] { verify_cleartext(cert, testing::to_string(e)); });
    survive([&] { parse_revocation_for(cert, c); });
    survive([&] { dearmor_all(testing::to_string(b)); });
  }
}

}  // namespace
}  // namespace catsign::openpgp
