// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/pkcs11_uri.hpp"

#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include <memory>

#include "catsign/error.hpp"

namespace catsign::token {

namespace {

struct UriFree {
  void operator()(P11KitUri* uri) const noexcept { p11_kit_uri_free(uri); }
};

// p11-kit keeps CK_TOKEN_INFO fields blank-padded; a field the URI leaves out is all zero.
std::optional<std::string> token_field(const unsigned char* field, std::size_t size) {
  if (field[0] == 0) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(field), p11_kit_space_strlen(field, size));
}

std::string parse_problem(int rc) {
  switch (rc) {
    case P11_KIT_URI_BAD_SCHEME: return "it must start with \"pkcs11:\"";
    case P11_KIT_URI_BAD_ENCODING: return "a %-escape is broken (write %XX with two hex digits)";
    case P11_KIT_URI_BAD_SYNTAX: return "bad syntax (attributes are NAME=VALUE separated by ';')";
    case P11_KIT_URI_BAD_VERSION: return "bad library-version";
    default: return "p11-kit cannot parse it (" + std::string(p11_kit_uri_message(rc)) + ")";
  }
}

bool is_unreserved(unsigned char c) {
  // RFC 7512 §2.3: unreserved characters and the few sub-delims a path attribute may carry
  // unescaped; ';', '=', '&', '%', '/', '?' and '#' have a meaning there and are always escaped.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == ':' || c == '[' || c == ']' || c == '@' ||
         c == '!' || c == '$' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' ||
         c == ',';
}

bool equals(const std::optional<std::string>& want, const std::string& have) {
  return !want || *want == have;
}

}  // namespace

Pkcs11Uri Pkcs11Uri::parse(const std::string& text) {
  std::unique_ptr<P11KitUri, UriFree> uri(p11_kit_uri_new());
  if (!uri) throw Error(Errc::internal, "out of memory parsing a PKCS#11 URI");
  int rc = p11_kit_uri_parse(text.c_str(), P11_KIT_URI_FOR_ANY, uri.get());
  if (rc != P11_KIT_URI_OK) {
    throw Error(Errc::usage, "PKCS#11 URI \"" + text + "\" is malformed: " + parse_problem(rc) +
                                 "; write it like pkcs11:token=catsign;object=catalog-2026");
  }
  if (p11_kit_uri_get_pin_value(uri.get()) != nullptr || p11_kit_uri_get_pin_source(uri.get()) != nullptr) {
    throw Error(Errc::usage, "PKCS#11 URI \"" + text +
                                 "\" carries a PIN (pin-value/pin-source): remove it; catsign asks "
                                 "for the PIN on the terminal or reads it from --pin-fd");
  }

  if (p11_kit_uri_any_unrecognized(uri.get())) {
    // A misspelt attribute ("objet=") would otherwise widen the match silently.
    throw Error(Errc::usage, "PKCS#11 URI \"" + text +
                                 "\" has an attribute catsign does not know: use token=, serial=, "
                                 "manufacturer=, model=, object=, id= and type=");
  }

  Pkcs11Uri out;
  out.text = text;
  if (CK_TOKEN_INFO* info = p11_kit_uri_get_token_info(uri.get()); info != nullptr) {
    out.token_label = token_field(info->label, sizeof info->label);
    out.token_serial = token_field(info->serialNumber, sizeof info->serialNumber);
    out.token_manufacturer = token_field(info->manufacturerID, sizeof info->manufacturerID);
    out.token_model = token_field(info->model, sizeof info->model);
  }
  if (CK_ATTRIBUTE* a = p11_kit_uri_get_attribute(uri.get(), CKA_LABEL); a != nullptr) {
    out.object_label = std::string(static_cast<const char*>(a->pValue), a->ulValueLen);
  }
  if (CK_ATTRIBUTE* a = p11_kit_uri_get_attribute(uri.get(), CKA_ID); a != nullptr) {
    const auto* p = static_cast<const std::uint8_t*>(a->pValue);
    out.object_id = Bytes(p, p + a->ulValueLen);
  }
  if (CK_ATTRIBUTE* a = p11_kit_uri_get_attribute(uri.get(), CKA_CLASS);
      a != nullptr && a->ulValueLen == sizeof(CK_OBJECT_CLASS)) {
    switch (*static_cast<const CK_OBJECT_CLASS*>(a->pValue)) {
      case CKO_PRIVATE_KEY: out.object_type = ObjectType::private_key; break;
      case CKO_PUBLIC_KEY: out.object_type = ObjectType::public_key; break;
      case CKO_CERTIFICATE: out.object_type = ObjectType::certificate; break;
      case CKO_SECRET_KEY: out.object_type = ObjectType::secret_key; break;
      case CKO_DATA: out.object_type = ObjectType::data; break;
      default: break;
    }
  }
  if (const char* m = p11_kit_uri_get_module_path(uri.get()); m != nullptr) out.module_path = m;
  if (const char* m = p11_kit_uri_get_module_name(uri.get()); m != nullptr) out.module_name = m;
  if (out.module_path && out.module_path->empty())
    throw Error(Errc::usage, "PKCS#11 URI \"" + text + "\" has an empty module-path=: name the module's file or remove it");
  if (out.object_label && out.object_label->empty()) {
    throw Error(Errc::usage, "PKCS#11 URI \"" + text + "\" has an empty object=: name the key's label");
  }
  if (out.token_label && out.token_label->empty() && !out.token_serial) {
    throw Error(Errc::usage, "PKCS#11 URI \"" + text + "\" has an empty token=: name the token's label");
  }
  if (!out.names_token() && !out.names_object()) {
    throw Error(Errc::usage, "PKCS#11 URI \"" + text +
                                 "\" names neither a token nor an object: write it like "
                                 "pkcs11:token=catsign;object=catalog-2026");
  }
  return out;
}

bool Pkcs11Uri::matches(const TokenIdentity& token) const {
  return equals(token_label, token.label) && equals(token_serial, token.serial) &&
         equals(token_manufacturer, token.manufacturer) && equals(token_model, token.model);
}

std::string Pkcs11Uri::describe_object() const {
  std::string out;
  if (object_label) out += "object=" + pkcs11_uri_encode(*object_label);
  if (object_id) {
    if (!out.empty()) out += ';';
    out += "id=";
    for (std::uint8_t b : *object_id) {
      out += '%';  // appended apart: `"%" + temporary` sets off GCC 12's -Wrestrict at -O3
      out += to_hex(ByteView(&b, 1));
    }
  }
  return out.empty() ? "(no object)" : out;
}

std::string pkcs11_uri_encode(std::string_view value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace catsign::token
