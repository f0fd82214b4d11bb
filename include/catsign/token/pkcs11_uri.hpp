// SPDX-License-Identifier: Apache-2.0
// RFC 7512 PKCS#11 URIs ("pkcs11:token=catsign;object=catalog-2026"), parsed by p11-kit so we
// agree with every other tool that reads them.
#pragma once

#include <optional>
#include <string>

#include "catsign/util/bytes.hpp"

namespace catsign::token {

// The attributes that identify a token, as the token reports them (trailing blanks removed).
struct TokenIdentity {
  std::string label;
  std::string serial;
  std::string manufacturer;
  std::string model;
};

// RFC 7512 §2.3 "type": the object class the URI asks for.
enum class ObjectType { any, private_key, public_key, certificate, secret_key, data };

struct Pkcs11Uri {
  std::string text;  // the URI as given

  // Path attributes of RFC 7512 §2.3; nullopt when the URI does not name them.
  std::optional<std::string> token_label;         // token=
  std::optional<std::string> token_serial;        // serial=
  std::optional<std::string> token_manufacturer;  // manufacturer=
  std::optional<std::string> token_model;         // model=
  std::optional<std::string> object_label;        // object=
  std::optional<Bytes> object_id;                 // id= (percent-encoded bytes)
  ObjectType object_type = ObjectType::any;       // type=
  // Query attributes of RFC 7512 §2.4 naming the module; the configuration uses or refuses them.
  std::optional<std::string> module_path;         // ?module-path=
  std::optional<std::string> module_name;         // ?module-name=

  // Throws Error(Errc::usage) with one line saying what to fix when the URI is malformed,
  // names neither a token nor an object, or carries a PIN (pin-value / pin-source): a PIN
  // never comes from configuration.
  static Pkcs11Uri parse(const std::string& uri);

  bool names_token() const noexcept {
    return token_label || token_serial || token_manufacturer || token_model;
  }
  bool names_object() const noexcept { return object_label.has_value() || object_id.has_value(); }

  // True when every token attribute the URI names equals the token's (RFC 7512 §3.3: an
  // attribute the URI leaves out matches anything).
  bool matches(const TokenIdentity& token) const;

  // "object=catalog-2026;id=%01%02" style description of the object part, for messages.
  std::string describe_object() const;
};

// Percent-encodes a value for a URI path attribute (RFC 7512 §2.3 pk11-pchar).
std::string pkcs11_uri_encode(std::string_view value);

}  // namespace catsign::token
