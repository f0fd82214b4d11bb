// SPDX-License-Identifier: Apache-2.0
// RFC 7512 PKCS#11 URIs, as a config file's [keys.*] uri gives them.
#include "catsign/token/pkcs11_uri.hpp"
#include "fuzz.hpp"

using namespace catsign;
using namespace catsign::token;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(fuzz::as_text(data, size));
  fuzz::expect_only_error([&] {
    Pkcs11Uri u = Pkcs11Uri::parse(text);
    (void)u.describe_object();
    (void)u.matches({"catsign", "SoftHSM project", "SoftHSM v2", "abc459d895ca5606"});
  });
  // Any value, percent-encoded, is taken back whole as an object label, and as a token label
  // but for trailing blanks: CK_TOKEN_INFO pads labels with them, so "a " names token "a".
  std::string value(fuzz::as_text(data, size));
  if (value.empty() || value.find('\0') != std::string::npos) return 0;
  std::string token_value = value.substr(0, value.find_last_not_of(' ') + 1);
  fuzz::expect_only_error([&] {
    std::string enc = pkcs11_uri_encode(value);
    Pkcs11Uri u = Pkcs11Uri::parse("pkcs11:token=" + enc + ";object=" + enc);
    if (u.token_label != token_value) fuzz::broken("pkcs11_uri_encode does not round-trip a token label");
    if (u.object_label != value) fuzz::broken("pkcs11_uri_encode does not round-trip an object label");
  });
  return 0;
}
