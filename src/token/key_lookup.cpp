// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/key_lookup.hpp"

#include "catsign/error.hpp"
#include "catsign/token/key_template.hpp"
#include "catsign/token/key_usage.hpp"
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

std::optional<CK_OBJECT_HANDLE> public_half(Pkcs11Session& s, ByteView id) {
  CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY;
  Bytes id_copy(id.begin(), id.end());
  auto pubs = s.find({attr(CKA_CLASS, &pub_cls, sizeof pub_cls), attr(CKA_ID, id_copy.data(), id_copy.size())});
  if (pubs.size() != 1) return std::nullopt;
  return pubs.front();
}

// CKA_EC_POINT is the DER encoding of an OCTET STRING holding the point (PKCS#11 v2.40
// §2.3.3); some tokens report the bare point. Either way, the point.
std::optional<Bytes> unwrap_ec_point(const Bytes& v, std::size_t point_size) {
  if (v.size() == point_size && (point_size == 32 || v[0] == 0x04)) return v;
  if (v.size() < 2 || v[0] != 0x04) return std::nullopt;
  std::size_t len = 0, header = 2;
  if (v[1] < 0x80) {
    len = v[1];
  } else if (v[1] == 0x81 && v.size() >= 3) {
    len = v[2];
    header = 3;
  } else {
    return std::nullopt;
  }
  if (header + len != v.size() || len != point_size) return std::nullopt;
  return Bytes(v.begin() + static_cast<std::ptrdiff_t>(header), v.end());
}

}  // namespace

PublicKeyMaterial read_public_key(Pkcs11Session& s, CK_OBJECT_HANDLE handle, ByteView key_id, const std::string& name,
                                  const std::string& token_label) {
  const std::string tok = quote_label(token_label);
  const CK_ULONG type = s.get_ulong(handle, CKA_KEY_TYPE).value_or(CKK_RSA);
  if (type == CKK_RSA) {
    std::optional<Bytes> n = s.get_bytes(handle, CKA_MODULUS);
    std::optional<Bytes> e = s.get_bytes(handle, CKA_PUBLIC_EXPONENT);
    if (!n || !e || n->empty() || e->empty()) {
      // Some tokens keep n and e only on the public key object: find it by the shared CKA_ID.
      if (auto pub = public_half(s, key_id)) {
        n = s.get_bytes(*pub, CKA_MODULUS);
        e = s.get_bytes(*pub, CKA_PUBLIC_EXPONENT);
      }
    }
    if (!n || !e || n->empty() || e->empty())
      throw TokenError(CKR_ATTRIBUTE_TYPE_INVALID,
                       "cannot read the public half (n, e) of key " + quote_label(name) + " on token " + tok);
    return PublicKeyMaterial::from_rsa(RsaPublicKey{without_leading_zeros(*n), without_leading_zeros(*e)});
  }
  if (type != CKK_EC && type != CKK_EC_EDWARDS)
    throw Error(Errc::unsupported, "key " + quote_label(name) + " on token " + tok + " is of PKCS#11 key type 0x" +
                                       to_hex(Bytes{static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type)}) +
                                       ": catsign signs with RSA, ECDSA (P-256, P-384) and Ed25519 keys only");
  std::optional<Bytes> params = s.get_bytes(handle, CKA_EC_PARAMS);
  std::optional<CK_OBJECT_HANDLE> pub = public_half(s, key_id);
  if (!params && pub) params = s.get_bytes(*pub, CKA_EC_PARAMS);
  std::optional<KeyAlgorithm> curve = params ? curve_from_ec_params(*params) : std::nullopt;
  if (!curve || (type == CKK_EC_EDWARDS) != (*curve == KeyAlgorithm::ed25519))
    throw Error(Errc::unsupported, "key " + quote_label(name) + " on token " + tok + " is on curve " +
                                       (params ? to_hex(*params) : std::string("(unreadable)")) +
                                       ": catsign signs with NIST P-256, P-384 and Ed25519 only");
  std::optional<Bytes> point;
  if (pub) point = s.get_bytes(*pub, CKA_EC_POINT);
  if (!point) point = s.get_bytes(handle, CKA_EC_POINT);  // some tokens keep it on the private key too
  const std::size_t size = *curve == KeyAlgorithm::ed25519 ? 32 : 1 + 2 * ec_scalar_size(*curve);
  std::optional<Bytes> bare = point ? unwrap_ec_point(*point, size) : std::nullopt;
  if (!bare)
    throw TokenError(CKR_ATTRIBUTE_TYPE_INVALID, "cannot read the public point (CKA_EC_POINT) of key " +
                                                     quote_label(name) + " on token " + tok +
                                                     ": its public key object with the same CKA_ID is missing or unreadable");
  return PublicKeyMaterial::from_point(*curve, std::move(*bare));
}

std::vector<KeyDetails> describe_private_keys(Pkcs11Session& session, const std::string& token_label) {
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  std::vector<KeyDetails> out;
  for (CK_OBJECT_HANDLE h : session.find({attr(CKA_CLASS, &cls, sizeof cls)})) {
    KeyDetails k;
    if (auto label = session.get_bytes(h, CKA_LABEL)) k.label.assign(label->begin(), label->end());
    if (auto id = session.get_bytes(h, CKA_ID)) k.id = *id;
    const std::string name = k.label.empty() ? "id " + to_hex(k.id) : k.label;
    try {
      k.public_key = read_public_key(session, h, k.id, name, token_label);
      k.type = k.public_key->describe();
    } catch (const Error& e) {
      k.type = e.code() == Errc::unsupported ? "unsupported" : "unreadable";
    }
    SignOnlyAssessment usage =
        assess_sign_only(session, h, session.get_ulong(h, CKA_KEY_TYPE).value_or(CKK_RSA));
    if (usage.verdict == SignOnlyAssessment::Verdict::not_sign_only) k.not_sign_only = usage.reason;
    if (usage.verdict == SignOnlyAssessment::Verdict::sign_only_in_effect) k.sign_only_because = usage.reason;
    k.can_decrypt = usage.can_decrypt;
    k.always_authenticate = session.get_bool(h, CKA_ALWAYS_AUTHENTICATE).value_or(false);
    out.push_back(std::move(k));
  }
  return out;
}

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

  key.label.assign(key_label.begin(), key_label.end());
  key.id = key_id;
  if (s.get_bool(key.handle, CKA_ALWAYS_AUTHENTICATE).value_or(false))
    throw Error(Errc::refused, "key " + quote_label(key.name) +
                                   " needs the PIN for every signature (CKA_ALWAYS_AUTHENTICATE): turn off "
                                   "forcesig on an OpenPGP card, or use PIV slot 9a");
  key.public_key = read_public_key(s, key.handle, key_id, key.name, token_label);
  // Not refused: keys made by other tools often allow decryption, and an operator may have no
  // other key yet. Said every time the key is used, so it is not forgotten. An EC key that
  // reports CKA_DECRYPT on a token with no EC decryption or derivation at all (a TPM,
  // key_usage.hpp) can't decrypt anything: nothing to say.
  std::string also;
  if (s.get_bool(key.handle, CKA_DECRYPT).value_or(false) &&
      (key.public_key.algorithm == KeyAlgorithm::rsa || decrypts_or_derives_with_ec(offered_mechanisms(s))))
    also = "decrypt (CKA_DECRYPT true)";
  if (s.get_bool(key.handle, CKA_UNWRAP).value_or(false))
    also += (also.empty() ? "" : " and ") + std::string("unwrap keys (CKA_UNWRAP true)");
  if (!also.empty())
    key.warnings.push_back("the private key " + quote_label(key.name) + " on token " + tok + " can also " + also +
                           ": a signing key should sign only; generate a sign-only key with catsign keygen and "
                           "rotate to it");
  return key;
}

}  // namespace catsign::token
