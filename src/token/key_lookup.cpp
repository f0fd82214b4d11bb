// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/key_lookup.hpp"

#include "catsign/error.hpp"
#include "catsign/token/pkcs11_module.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::token {

namespace {

CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, void* value, std::size_t size) {
  return CK_ATTRIBUTE{type, value, static_cast<CK_ULONG>(size)};
}

std::string key_list(Pkcs11Session& session) {
  std::string list;
  for (const KeyInfo& k : list_private_keys(session))
    list += (list.empty() ? "" : ", ") + quote_label(k.label) + " (id " + to_hex(k.id) + ")";
  return list.empty() ? "none" : list;
}

}  // namespace

std::vector<KeyInfo> list_private_keys(Pkcs11Session& session) {
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  std::vector<KeyInfo> out;
  for (CK_OBJECT_HANDLE h : session.find({attr(CKA_CLASS, &cls, sizeof cls)})) {
    KeyInfo k;
    if (auto label = session.get_bytes(h, CKA_LABEL)) k.label.assign(label->begin(), label->end());
    if (auto id = session.get_bytes(h, CKA_ID)) k.id = *id;
    out.push_back(std::move(k));
  }
  return out;
}

FoundKey find_signing_key(Pkcs11Session& s, const Pkcs11Uri& uri, const std::string& token_label) {
  const std::string tok = quote_label(token_label);
  if (!uri.names_object())
    throw Error(Errc::usage, "PKCS#11 URI " + uri.text + " names no key: add object=LABEL (or id=...)");
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  std::vector<CK_ATTRIBUTE> match{attr(CKA_CLASS, &cls, sizeof cls)};
  std::string label = uri.object_label.value_or("");
  Bytes id = uri.object_id.value_or(Bytes{});
  if (uri.object_label) match.push_back(attr(CKA_LABEL, label.data(), label.size()));
  if (uri.object_id) match.push_back(attr(CKA_ID, id.data(), id.size()));
  std::vector<CK_OBJECT_HANDLE> found = s.find(match);
  if (found.empty())
    throw Error(Errc::usage, "no private key " + uri.describe_object() + " on token " + tok + " (URI " + uri.text +
                                 "); keys seen: " + key_list(s) + "; fix the uri in the config or run catsign keygen");
  if (found.size() > 1)
    throw Error(Errc::usage, "more than one private key matches " + uri.text + " on token " + tok + ": " +
                                 key_list(s) + "; add id=... to the URI");

  FoundKey key;
  key.handle = found.front();
  Bytes key_label = s.get_bytes(key.handle, CKA_LABEL).value_or(Bytes{});
  Bytes key_id = s.get_bytes(key.handle, CKA_ID).value_or(Bytes{});
  key.name = key_label.empty() ? "id " + to_hex(key_id) : std::string(key_label.begin(), key_label.end());

  if (s.get_ulong(key.handle, CKA_KEY_TYPE).value_or(CKK_RSA) != CKK_RSA)
    throw Error(Errc::unsupported, "key " + quote_label(key.name) + " on token " + tok +
                                       " is not an RSA key: catsign signs with RSA only");
  if (s.get_bool(key.handle, CKA_ALWAYS_AUTHENTICATE).value_or(false))
    throw Error(Errc::refused, "key " + quote_label(key.name) +
                                   " needs the PIN for every signature (CKA_ALWAYS_AUTHENTICATE): turn off "
                                   "forcesig on an OpenPGP card, or use PIV slot 9a");
  std::optional<Bytes> n = s.get_bytes(key.handle, CKA_MODULUS);
  std::optional<Bytes> e = s.get_bytes(key.handle, CKA_PUBLIC_EXPONENT);
  if (!n || !e || n->empty() || e->empty()) {
    // Some tokens keep n and e only on the public key object: find it by the shared CKA_ID.
    CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY;
    auto pubs = s.find({attr(CKA_CLASS, &pub_cls, sizeof pub_cls), attr(CKA_ID, key_id.data(), key_id.size())});
    if (pubs.size() == 1) {
      n = s.get_bytes(pubs.front(), CKA_MODULUS);
      e = s.get_bytes(pubs.front(), CKA_PUBLIC_EXPONENT);
    }
  }
  if (!n || !e || n->empty() || e->empty())
    throw TokenError(CKR_ATTRIBUTE_TYPE_INVALID,
                     "cannot read the public half (n, e) of key " + quote_label(key.name) + " on token " + tok);
  key.public_key = RsaPublicKey{without_leading_zeros(*n), without_leading_zeros(*e)};
  return key;
}

}  // namespace catsign::token
