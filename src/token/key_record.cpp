// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/key_record.hpp"

#include <charconv>
#include <algorithm>
#include <cstring>

#include "catsign/error.hpp"
#include "catsign/token/pkcs11_module.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::token {

namespace {

constexpr std::string_view kMagic = "catsign-key 1\n";

CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, void* value, std::size_t size) {
  return CK_ATTRIBUTE{type, value, static_cast<CK_ULONG>(size)};
}

[[noreturn]] void bad(const std::string& what) {
  throw Error(Errc::malformed, "the key record on the token is unreadable: " + what);
}

// One "name=value\n" line; returns the value.
std::string_view field(std::string_view& rest, std::string_view name) {
  const std::size_t eol = rest.find('\n');
  if (eol == std::string_view::npos) bad("the line for " + std::string(name) + " is missing or unterminated");
  std::string_view line = rest.substr(0, eol);
  rest.remove_prefix(eol + 1);
  if (line.size() <= name.size() || line.substr(0, name.size()) != name || line[name.size()] != '=')
    bad("expected " + std::string(name) + "=..., found " + quote_for_message(line));
  return line.substr(name.size() + 1);
}

std::uint32_t number(std::string_view text, std::string_view name) {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || (text.size() > 1 && text[0] == '0'))
    bad(std::string(name) + " is not a number of seconds");
  return v;
}

Bytes hex_bytes(std::string_view text) {
  if (text.empty() || text.size() % 2 != 0 || text.size() > 256) bad("id is not hex");
  Bytes out;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    std::uint8_t b = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + i + 2, b, 16);
    if (ec != std::errc() || end != text.data() + i + 2 || text[i] == '+' || text[i] == '-') bad("id is not hex");
    out.push_back(b);
  }
  if (to_hex(out) != text) bad("id is not lowercase hex");
  return out;
}

std::vector<CK_OBJECT_HANDLE> records(Pkcs11Session& s, const std::string& label) {
  CK_OBJECT_CLASS cls = CKO_DATA;
  std::string app = kKeyRecordApplication;
  std::string l = label;
  return s.find({attr(CKA_CLASS, &cls, sizeof cls), attr(CKA_APPLICATION, app.data(), app.size()),
                 attr(CKA_LABEL, l.data(), l.size())});
}

}  // namespace

std::string encode_key_record(const KeyRecord& r) {
  return std::string(kMagic) + "id=" + to_hex(r.id) + "\ncreated=" + std::to_string(r.created) +
         "\nexpiration=" + std::to_string(r.expiration) + "\n";
}

KeyRecord parse_key_record(std::string_view text) {
  if (text.substr(0, kMagic.size()) != kMagic) bad("it does not start with \"catsign-key 1\"");
  std::string_view rest = text.substr(kMagic.size());
  KeyRecord r;
  r.id = hex_bytes(field(rest, "id"));
  r.created = number(field(rest, "created"), "created");
  r.expiration = number(field(rest, "expiration"), "expiration");
  if (!rest.empty()) bad("unexpected text after the expiration");
  if (r.created == 0) bad("created is 0");
  return r;
}

std::optional<KeyRecord> read_key_record(Pkcs11Session& s, const std::string& label, ByteView id) {
  std::optional<KeyRecord> found;
  for (CK_OBJECT_HANDLE h : records(s, label)) {
    std::optional<Bytes> value = s.get_bytes(h, CKA_VALUE);
    if (!value) continue;
    KeyRecord r = parse_key_record(std::string_view(reinterpret_cast<const char*>(value->data()), value->size()));
    if (!std::equal(r.id.begin(), r.id.end(), id.begin(), id.end())) continue;
    if (found) throw Error(Errc::usage, "two key records on the token claim key " + quote_label(label) +
                                            ": delete the older data object with pkcs11-tool --delete-object --type data");
    found = std::move(r);
  }
  return found;
}

CK_OBJECT_HANDLE write_key_record(Pkcs11Session& s, const std::string& label, const KeyRecord& record) {
  std::string value = encode_key_record(record);
  // The records this one replaces. A data object's CKA_VALUE can't be changed on every token
  // (SoftHSM: CKR_ATTRIBUTE_READ_ONLY), so the new record is made first and the old ones go
  // after it: the key is never without one.
  std::vector<CK_OBJECT_HANDLE> old;
  for (CK_OBJECT_HANDLE h : records(s, label)) {
    std::optional<Bytes> v = s.get_bytes(h, CKA_VALUE);
    if (!v) continue;
    try {
      if (parse_key_record(std::string_view(reinterpret_cast<const char*>(v->data()), v->size())).id == record.id)
        old.push_back(h);
    } catch (const Error&) {
      // Not a record of this key: left alone.
    }
  }
  CK_OBJECT_CLASS cls = CKO_DATA;
  CK_BBOOL yes = CK_TRUE;
  std::string app = kKeyRecordApplication;
  std::string l = label;
  // CKA_PRIVATE true (PKCS#11 v2.40 §4.4: readable only after login), which is also the only
  // data object tpm2-pkcs11 makes: CKA_PRIVATE=false is CKR_ATTRIBUTE_VALUE_INVALID there.
  std::vector<CK_ATTRIBUTE> tmpl{attr(CKA_CLASS, &cls, sizeof cls),        attr(CKA_TOKEN, &yes, sizeof yes),
                                 attr(CKA_PRIVATE, &yes, sizeof yes),      attr(CKA_MODIFIABLE, &yes, sizeof yes),
                                 attr(CKA_APPLICATION, app.data(), app.size()), attr(CKA_LABEL, l.data(), l.size()),
                                 attr(CKA_VALUE, value.data(), value.size())};
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  check_rv(s.fn()->C_CreateObject(s.handle(), tmpl.data(), static_cast<CK_ULONG>(tmpl.size()), &h),
           "writing the key record of " + quote_label(label));
  for (CK_OBJECT_HANDLE o : old) {
    CK_RV rv = s.fn()->C_DestroyObject(s.handle(), o);
    if (rv != CKR_OK) {
      s.fn()->C_DestroyObject(s.handle(), h);
      check_rv(rv, "replacing the key record of " + quote_label(label));
    }
  }
  return h;
}

std::size_t destroy_key_records(Pkcs11Session& s, const std::string& label, ByteView id) {
  std::size_t destroyed = 0;
  for (CK_OBJECT_HANDLE h : records(s, label)) {
    std::optional<Bytes> v = s.get_bytes(h, CKA_VALUE);
    if (!v) continue;
    try {
      const KeyRecord r = parse_key_record(std::string_view(reinterpret_cast<const char*>(v->data()), v->size()));
      if (!std::equal(r.id.begin(), r.id.end(), id.begin(), id.end())) continue;
    } catch (const Error&) {
      continue;  // not a record of this key: left alone
    }
    if (s.fn()->C_DestroyObject(s.handle(), h) == CKR_OK) ++destroyed;
  }
  return destroyed;
}

}  // namespace catsign::token
