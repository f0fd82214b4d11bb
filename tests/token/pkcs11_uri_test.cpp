// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/pkcs11_uri.hpp"

#include <gtest/gtest.h>

#include "catsign/error.hpp"

namespace catsign::token {
namespace {

TEST(Pkcs11Uri, TokenAndObject) {
  Pkcs11Uri u = Pkcs11Uri::parse("pkcs11:token=catsign;object=catalog-2026");
  EXPECT_EQ(u.text, "pkcs11:token=catsign;object=catalog-2026");
  EXPECT_EQ(u.token_label, "catsign");
  EXPECT_EQ(u.object_label, "catalog-2026");
  EXPECT_FALSE(u.token_serial);
  EXPECT_FALSE(u.token_manufacturer);
  EXPECT_FALSE(u.token_model);
  EXPECT_FALSE(u.object_id);
  EXPECT_EQ(u.object_type, ObjectType::any);
  EXPECT_TRUE(u.names_token());
  EXPECT_TRUE(u.names_object());
}

TEST(Pkcs11Uri, AllAttributesAndPercentEncoding) {
  Pkcs11Uri u = Pkcs11Uri::parse(
      "pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;serial=abc459d895ca5606;"
      "token=My%20Token;object=key%3b1;id=%01%ff;type=private");
  EXPECT_EQ(u.token_label, "My Token");
  EXPECT_EQ(u.token_serial, "abc459d895ca5606");
  EXPECT_EQ(u.token_manufacturer, "SoftHSM project");
  EXPECT_EQ(u.token_model, "SoftHSM v2");
  EXPECT_EQ(u.object_label, "key;1");
  EXPECT_EQ(u.object_id, (Bytes{0x01, 0xff}));
  EXPECT_EQ(u.object_type, ObjectType::private_key);
  EXPECT_EQ(u.describe_object(), "object=key%3B1;id=%01%ff");
}

TEST(Pkcs11Uri, ObjectOnlyOrTokenOnly) {
  Pkcs11Uri object_only = Pkcs11Uri::parse("pkcs11:object=k");
  EXPECT_FALSE(object_only.names_token());
  EXPECT_TRUE(object_only.names_object());
  Pkcs11Uri id_only = Pkcs11Uri::parse("pkcs11:id=%42");
  EXPECT_TRUE(id_only.names_object());
  Pkcs11Uri token_only = Pkcs11Uri::parse("pkcs11:token=catsign");
  EXPECT_TRUE(token_only.names_token());
  EXPECT_FALSE(token_only.names_object());
  EXPECT_EQ(Pkcs11Uri::parse("pkcs11:token=t;type=cert").object_type, ObjectType::certificate);
}

TEST(Pkcs11Uri, MatchesToken) {
  Pkcs11Uri u = Pkcs11Uri::parse("pkcs11:token=catsign;serial=1234;object=k");
  EXPECT_TRUE(u.matches({"catsign", "1234", "SoftHSM project", "SoftHSM v2"}));
  EXPECT_FALSE(u.matches({"catsign", "9999", "SoftHSM project", "SoftHSM v2"}));
  EXPECT_FALSE(u.matches({"other", "1234", "SoftHSM project", "SoftHSM v2"}));
  EXPECT_TRUE(Pkcs11Uri::parse("pkcs11:object=k").matches({"anything", "", "", ""}));
}

void expect_usage_error(const std::string& uri, const std::string& fragment) {
  try {
    Pkcs11Uri::parse(uri);
    ADD_FAILURE() << "accepted " << uri;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::usage) << uri;
    std::string what = e.what();
    EXPECT_NE(what.find(fragment), std::string::npos) << uri << " -> " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
  }
}

TEST(Pkcs11Uri, RefusesMalformed) {
  expect_usage_error("token=catsign;object=k", "must start with \"pkcs11:\"");
  expect_usage_error("http://example.com/", "must start with \"pkcs11:\"");
  expect_usage_error("", "must start with");
  expect_usage_error("pkcs11:token=%zz", "%-escape");
  expect_usage_error("pkcs11:token=a%2", "%-escape");
  expect_usage_error("pkcs11:objet=catalog", "does not know");
  expect_usage_error("pkcs11:object=", "empty object=");
}

TEST(Pkcs11Uri, RefusesUrisNamingNothing) {
  expect_usage_error("pkcs11:", "names neither a token nor an object");
  expect_usage_error("pkcs11:type=private", "names neither a token nor an object");
  expect_usage_error("pkcs11:?module-path=/usr/lib/softhsm/libsofthsm2.so", "names neither");
}

TEST(Pkcs11Uri, RefusesPinInUri) {
  expect_usage_error("pkcs11:token=catsign;object=k?pin-value=123456", "carries a PIN");
  expect_usage_error("pkcs11:token=catsign;object=k?pin-source=file:/etc/pin", "carries a PIN");
}

TEST(Pkcs11Uri, EncodeRoundTrips) {
  for (std::string label : {"catsign", "My Token", "a;b=c/d?e%f", "ünï"}) {
    Pkcs11Uri u = Pkcs11Uri::parse("pkcs11:token=" + pkcs11_uri_encode(label) + ";object=" + pkcs11_uri_encode(label));
    EXPECT_EQ(u.token_label, label);
    EXPECT_EQ(u.object_label, label);
  }
  EXPECT_EQ(pkcs11_uri_encode("a b;c"), "a%20b%3Bc");
}

}  // namespace
}  // namespace catsign::token
