// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/token.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "catsign/error.hpp"
#include "catsign/token/key_template.hpp"
#include "catsign/token/key_usage.hpp"
#include "catsign/util/quote.hpp"
#include "token_signer.hpp"

namespace catsign::token {

namespace {

CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, void* value, std::size_t size) {
  return CK_ATTRIBUTE{type, value, static_cast<CK_ULONG>(size)};
}

std::string trim(const CK_UTF8CHAR* s, std::size_t size) {
  std::string out(reinterpret_cast<const char*>(s), size);
  while (!out.empty() && (out.back() == ' ' || out.back() == '\0')) out.pop_back();
  return out;
}

std::string describe(const TokenIdentity& t) {
  return "label " + quote_label(t.label) + " serial " + quote_label(t.serial) + " manufacturer " +
         quote_label(t.manufacturer);
}

// Libraries a live Token has initialised (see "One Token per module" in token.hpp).
std::mutex g_open_mutex;
std::set<const void*> g_open_libraries;

// Holds a library's place in g_open_libraries for the life of a Token::State.
class OpenLibraryClaim {
 public:
  OpenLibraryClaim() = default;
  OpenLibraryClaim(const OpenLibraryClaim&) = delete;
  OpenLibraryClaim& operator=(const OpenLibraryClaim&) = delete;
  ~OpenLibraryClaim() {
    if (library_ == nullptr) return;
    std::lock_guard lock(g_open_mutex);
    g_open_libraries.erase(library_);
  }
  // False when another Token holds it.
  bool claim(const void* library) {
    std::lock_guard lock(g_open_mutex);
    if (!g_open_libraries.insert(library).second) return false;
    library_ = library;
    return true;
  }

 private:
  const void* library_ = nullptr;
};

}  // namespace

// What generate_key made, so a keygen that fails later can take it off the token again.
struct GeneratedKey {
  std::string label;
  Bytes id;
};

struct Token::State {
  Pkcs11Uri uri;
  std::string module_path;
  TokenIdentity identity;
  CK_SLOT_ID slot_id = 0;
  // Members are destroyed in reverse order: the claim outlives the module, the module (its
  // C_Finalize and dlclose) outlives every session.
  OpenLibraryClaim claim;
  std::optional<Pkcs11Module> module;
  // Open for the life of the Token: in PKCS#11 the login lasts while the application has a
  // session open, so this one keeps it while signing sessions come and go.
  std::unique_ptr<Pkcs11Session> login_session;
  std::unique_ptr<SessionPool> pool;
  bool logged_in = false;
  std::map<std::string, std::unique_ptr<TokenSigner>> signers;  // by key URI
  std::optional<GeneratedKey> generated;  // the key pair generate_key last made

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  ~State() {
    signers.clear();
    pool.reset();
    if (logged_in && login_session) login_session->fn()->C_Logout(login_session->handle());
    login_session.reset();
    module.reset();
  }

  const std::string& label() const { return identity.label; }

  void require_login(const std::string& doing) const {
    if (!logged_in)
      throw TokenError(CKR_USER_NOT_LOGGED_IN, "log in to token " + quote_label(identity.label) + " before " + doing);
  }
};

Token::Token(std::unique_ptr<State> state) : state_(std::move(state)) {}
Token::~Token() = default;
Token::Token(Token&& other) noexcept = default;
Token& Token::operator=(Token&& other) noexcept = default;

const TokenIdentity& Token::identity() const noexcept { return state_->identity; }
const Pkcs11Uri& Token::uri() const noexcept { return state_->uri; }
CK_SLOT_ID Token::slot_id() const noexcept { return state_->slot_id; }
bool Token::logged_in() const noexcept { return state_->logged_in; }

Token Token::open(const std::string& module_path, const std::string& key_uri) {
  return open(module_path, Pkcs11Uri::parse(key_uri));
}

Token Token::open(const std::string& module_path, const Pkcs11Uri& key_uri) {
  auto st = std::make_unique<State>();
  st->uri = key_uri;
  st->module_path = module_path;
  st->module = Pkcs11Module::load(module_path);
  if (!st->claim.claim(st->module->library()))
    throw Error(Errc::internal, "PKCS#11 module " + module_path +
                                    " is already open in this process: use the one Token that holds it "
                                    "(a second would finalise the module under the first)");
  try {
    st->module->initialize();
  } catch (const TokenError& e) {
    throw TokenError(e.rv(), "PKCS#11 module " + module_path + " loaded but did not initialise (" +
                                 describe_rv(e.rv()) +
                                 "); for SoftHSM check that SOFTHSM2_CONF names a readable config whose "
                                 "token directory exists");
  }
  CK_FUNCTION_LIST* fn = st->module->fn();
  CK_ULONG count = 0;
  std::vector<CK_SLOT_ID> slots;
  CK_RV rv = fn->C_GetSlotList(CK_TRUE, nullptr, &count);
  if (rv == CKR_OK) {
    slots.resize(count);
    rv = fn->C_GetSlotList(CK_TRUE, slots.data(), &count);
    slots.resize(count);
  }
  if (rv != CKR_OK)
    throw TokenError(rv, "cannot list the slots of PKCS#11 module " + module_path + ": " + describe_rv(rv));

  std::vector<TokenIdentity> seen;
  std::vector<std::pair<CK_SLOT_ID, TokenIdentity>> matches;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (fn->C_GetTokenInfo(slot, &info) != CKR_OK || (info.flags & CKF_TOKEN_INITIALIZED) == 0) continue;
    TokenIdentity id{trim(info.label, sizeof info.label), trim(info.serialNumber, sizeof info.serialNumber),
                     trim(info.manufacturerID, sizeof info.manufacturerID), trim(info.model, sizeof info.model)};
    seen.push_back(id);
    if (key_uri.matches(id)) matches.emplace_back(slot, id);
  }
  if (matches.empty()) {
    std::string list;
    for (const auto& t : seen) list += (list.empty() ? "" : "; ") + describe(t);
    throw TokenError(CKR_TOKEN_NOT_PRESENT,
                     "no token matching " + key_uri.text + " in module " + module_path + "; tokens seen: " +
                         (list.empty() ? "none (is the token plugged in and initialised?)" : list));
  }
  if (matches.size() > 1) {
    std::string list;
    for (const auto& m : matches) list += (list.empty() ? "" : "; ") + describe(m.second);
    throw Error(Errc::usage, "more than one token matches " + key_uri.text + ": " + list +
                                 "; add serial=... to the URI to pick one");
  }
  st->slot_id = matches.front().first;
  st->identity = matches.front().second;
  st->login_session = std::make_unique<Pkcs11Session>(*st->module, st->slot_id, false);
  st->pool = std::make_unique<SessionPool>(fn, st->slot_id);
  return Token(std::move(st));
}

PinState Token::pin_state() const { return PinState::from_flags(state_->module->token_info(state_->slot_id).flags); }

void Token::login(const SecureString& pin) {
  State& st = *state_;
  if (st.logged_in)
    throw Error(Errc::usage, "already logged in to token " + quote_label(st.label()) + "; lock first to log in again");
  check_login_allowed(pin_state(), !pin.empty(), st.label(), st.module_path);
  // An empty PIN on a token with a PIN pad: C_Login(NULL, 0) and the reader asks for it
  // (PKCS#11 v2.40 §5.6, CKF_PROTECTED_AUTHENTICATION_PATH).
  CK_RV rv = st.login_session->fn()->C_Login(
      st.login_session->handle(), CKU_USER,
      pin.empty() ? nullptr : reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin.c_str())),
      static_cast<CK_ULONG>(pin.size()));
  // Logged in already through another session of this process (a PIN pad reader may report
  // it so): the login is the application's, so it is ours.
  if (rv == CKR_USER_ALREADY_LOGGED_IN) rv = CKR_OK;
  if (rv != CKR_OK) {
    std::optional<PinState> after;
    try {
      after = pin_state();
    } catch (const Error&) {
    }
    throw TokenError(rv, login_failure(rv, after, st.label(), st.module_path));
  }
  st.logged_in = true;
}

std::vector<KeyInfo> Token::private_keys() { return list_private_keys(*state_->login_session); }

bool Token::has_private_key(const std::string& label) {
  auto keys = private_keys();
  return std::any_of(keys.begin(), keys.end(), [&](const KeyInfo& k) { return k.label == label; });
}

Signer& Token::signer() { return signer(state_->uri); }

Signer& Token::signer(const Pkcs11Uri& uri) {
  State& st = *state_;
  if (auto it = st.signers.find(uri.text); it != st.signers.end()) return *it->second;
  if (!uri.names_object())
    throw Error(Errc::usage, "PKCS#11 URI " + uri.text + " names no key: add object=LABEL (or id=...)");
  if (!uri.matches(st.identity))
    throw Error(Errc::usage, "key URI " + uri.text + " names another token than " + quote_label(st.label()) +
                                 ": catsign uses one token at a time; keep its keys on the same token");
  st.require_login("using its key");
  FoundKey key = find_signing_key(*st.login_session, uri, st.label());
  auto& slot_signer = st.signers[uri.text];
  slot_signer = std::make_unique<TokenSigner>(*st.pool, std::move(key), st.label());
  return *slot_signer;
}

std::unique_ptr<Signer> Token::open_session_signer(const Pkcs11Uri& key_uri) {
  signer(key_uri);  // the URI's checks, once per URI
  State& st = *state_;
  return std::make_unique<OwnSessionSigner>(st.module->fn(), st.slot_id,
                                            find_signing_key(*st.login_session, key_uri, st.label()), st.label());
}

const std::vector<std::string>& Token::key_warnings(const Pkcs11Uri& uri) {
  signer(uri);
  return state_->signers.at(uri.text)->key().warnings;
}

PublicKeyMaterial Token::generate_key(const std::string& label, unsigned bits) {
  return generate_key(label, KeySpec{KeyAlgorithm::rsa, bits}, static_cast<std::uint32_t>(std::time(nullptr)));
}

PublicKeyMaterial Token::generate_key(const std::string& label, const KeySpec& spec, std::uint32_t created,
                                      std::uint32_t expiration, const KeygenNotice& notice, bool allow_decrypt) {
  State& st = *state_;
  const std::string tok = quote_label(st.label());
  KeyPairTemplate tmpl = key_pair_template(spec);  // refuses an RSA size it does not know
  if (label.empty()) throw Error(Errc::usage, "the new key needs a label");
  st.require_login("generating a key");

  // What the token says it can generate (PKCS#11 v2.40 §5.5 C_GetMechanismInfo; for
  // CKM_RSA_PKCS_KEY_PAIR_GEN the sizes are modulus bits, §2.1.4): a type or size it does not
  // offer is refused here in its own words, not as whatever C_GenerateKeyPair returns
  // (tpm2-pkcs11: CKR_MECHANISM_INVALID for Ed25519, CKR_ATTRIBUTE_VALUE_INVALID for RSA-4096).
  CK_MECHANISM_INFO offered{};
  const CK_RV info_rv = st.module->fn()->C_GetMechanismInfo(st.slot_id, tmpl.mechanism, &offered);
  if (info_rv == CKR_MECHANISM_INVALID)
    throw Error(Errc::unsupported, "token " + tok + " does not generate " + key_spec_name(spec) +
                                       " keys (it offers no " +
                                       (spec.algorithm == KeyAlgorithm::rsa       ? "CKM_RSA_PKCS_KEY_PAIR_GEN"
                                        : spec.algorithm == KeyAlgorithm::ed25519 ? "CKM_EC_EDWARDS_KEY_PAIR_GEN"
                                                                                  : "CKM_EC_KEY_PAIR_GEN") +
                                       "): choose another --algo");
  if (info_rv == CKR_OK && spec.algorithm == KeyAlgorithm::rsa && offered.ulMaxKeySize != 0 &&
      (spec.rsa_bits < offered.ulMinKeySize || spec.rsa_bits > offered.ulMaxKeySize))
    throw Error(Errc::unsupported, "token " + tok + " makes RSA keys of " + std::to_string(offered.ulMinKeySize) +
                                       " to " + std::to_string(offered.ulMaxKeySize) + " bits, not " +
                                       std::to_string(spec.rsa_bits) + ": choose another --algo");

  Pkcs11Session s(*st.module, st.slot_id, true);
  std::string label_copy = label;  // PKCS#11 templates take non-const pointers
  if (!s.find({attr(CKA_LABEL, label_copy.data(), label_copy.size())}).empty())
    throw Error(Errc::refused, "token " + tok + " already has an object labelled " + quote_label(label) +
                                   ": catsign never overwrites a key; choose another label, or delete the old "
                                   "key deliberately with pkcs11-tool --delete-object");

  // A fresh random CKA_ID shared by both halves, so tools pair them (RFC 7512 id=).
  Bytes id(16);
  auto draw_id = [&] {
    if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1)
      throw Error(Errc::internal, "cannot draw random bytes for the key id");
  };
  draw_id();
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
  auto generate = [&](KeyPairTemplate& t) {
    std::vector<CK_ATTRIBUTE> pub_template = to_template(t.public_key);
    std::vector<CK_ATTRIBUTE> priv_template = to_template(t.private_key);
    for (std::vector<CK_ATTRIBUTE>* half : {&pub_template, &priv_template}) {
      half->push_back(attr(CKA_LABEL, label_copy.data(), label_copy.size()));
      half->push_back(attr(CKA_ID, id.data(), id.size()));
    }
    CK_MECHANISM mech{t.mechanism, nullptr, 0};
    st.generated = GeneratedKey{label, id};
    return s.fn()->C_GenerateKeyPair(s.handle(), &mech, pub_template.data(),
                                     static_cast<CK_ULONG>(pub_template.size()), priv_template.data(),
                                     static_cast<CK_ULONG>(priv_template.size()), &pub, &priv);
  };
  CK_RV rv = generate(tmpl);
  // A token that decides a usage attribute itself may refuse the explicit sign-only template
  // (tpm2-pkcs11: CKR_GENERAL_ERROR on CKA_DECRYPT=false). One more try without the two it
  // may decide (key_template.hpp); what it chose is judged below. A fresh CKA_ID, so nothing
  // the refused call may have left behind pairs with the new key.
  bool token_decided = false;
  if (may_be_refused_template(rv)) {
    discard_generated_key();  // whatever the refused call left
    if (notice)
      notice("token " + tok + " refused the sign-only template (" + describe_rv(rv) +
             "); generating again without CKA_DECRYPT and CKA_ENCRYPT, which it decides itself");
    tmpl = without_token_decided_usage(tmpl);
    draw_id();
    pub = priv = CK_INVALID_HANDLE;
    rv = generate(tmpl);
    token_decided = true;
  }
  if (rv != CKR_OK) {
    // A token may fail after making one half (or both): whatever carries this attempt's label
    // and fresh CKA_ID is removed, so a failed keygen leaves nothing behind.
    std::size_t left = discard_generated_key();
    throw TokenError(rv, token_failure(rv, "generating " + key_spec_name(spec) + " key " + quote_label(label),
                                       st.label()) +
                             (left > 0 ? "; the " + std::to_string(left) + " object(s) it left were deleted" : ""));
  }

  // Trust, but read back the same template: a token that silently ignored part of it gets its
  // pair destroyed rather than a key that can be exported, unwraps or derives.
  std::optional<std::string> unmet = first_unmet(s, priv, tmpl.private_key);
  if (!unmet) unmet = first_unmet(s, pub, tmpl.public_key);
  if (unmet) {
    discard_generated_key();
    throw TokenError(CKR_TEMPLATE_INCONSISTENT, "token " + tok + " did not honour " + *unmet + " for key " +
                                                    quote_label(label) + "; the new key pair was deleted");
  }
  if (token_decided) {
    // CKA_DECRYPT was the token's choice. An EC key with it is still sign-only when the token
    // can't decrypt or derive with EC keys at all; an RSA key with it can decrypt, which the
    // operator is told (and `catsign keys` shows). Anything else is refused.
    const CK_KEY_TYPE type = spec.algorithm == KeyAlgorithm::rsa ? CKK_RSA
                             : spec.algorithm == KeyAlgorithm::ed25519 ? CKK_EC_EDWARDS
                                                                       : CKK_EC;
    SignOnlyAssessment usage = assess_sign_only(s, priv, type);
    if (usage.verdict == SignOnlyAssessment::Verdict::sign_only_in_effect) {
      if (notice)
        notice("key " + quote_label(label) + " has CKA_DECRYPT=true on token " + tok +
               ", and is sign-only in effect: " + usage.reason);
    } else if (usage.verdict == SignOnlyAssessment::Verdict::not_sign_only) {
      if (!usage.can_decrypt) {
        discard_generated_key();
        throw TokenError(CKR_TEMPLATE_INCONSISTENT, "token " + tok + " did not honour " + usage.reason +
                                                        " for key " + quote_label(label) +
                                                        "; the new key pair was deleted");
      }
      // A key that can decrypt turns every decryption the token does with it into a
      // signature oracle: kept only when the operator asked for it, knowing.
      if (!allow_decrypt) {
        discard_generated_key();
        throw Error(Errc::refused,
                    "token " + tok + " makes " + (type == CKK_RSA ? "RSA" : "EC") +
                        " keys that can also decrypt (it would not take CKA_DECRYPT=false), so the new key pair "
                        "was deleted: " +
                        (type == CKK_RSA ? "use --algo nistp256 on this token, or " : std::string()) +
                        "pass --allow-decrypt to keep such a key");
      }
      if (notice)
        notice("warning: key " + quote_label(label) + " can also decrypt: token " + tok +
               (type == CKK_RSA ? " makes RSA keys with CKA_DECRYPT=true and would not take false; prefer --algo "
                                  "nistp256 on this token"
                                : " makes EC keys with CKA_DECRYPT=true, would not take false, and offers EC "
                                  "decryption or derivation"));
    }
  }
  try {
    PublicKeyMaterial material = read_public_key(s, priv, id, label, st.label());
    catsign::token::write_key_record(s, label, KeyRecord{id, created, expiration});
    return material;
  } catch (...) {
    discard_generated_key();
    throw;
  }
}

std::vector<KeyDetails> Token::key_details() {
  state_->require_login("listing its keys");
  return describe_private_keys(*state_->login_session, state_->label());
}

KeyInfo Token::key_info(const Pkcs11Uri& uri) {
  state_->require_login("reading a key");
  FoundKey key = find_signing_key(*state_->login_session, uri, state_->label());
  return KeyInfo{key.label, key.id};
}

std::optional<KeyRecord> Token::key_record(const std::string& label, ByteView id) {
  state_->require_login("reading a key record");
  return read_key_record(*state_->login_session, label, id);
}

void Token::write_key_record(const std::string& label, const KeyRecord& record) {
  State& st = *state_;
  st.require_login("writing a key record");
  Pkcs11Session s(*st.module, st.slot_id, true);
  catsign::token::write_key_record(s, label, record);
}

std::size_t Token::discard_generated_key() noexcept {
  State& st = *state_;
  if (!st.generated) return 0;
  GeneratedKey g = std::move(*st.generated);
  st.generated.reset();
  std::size_t destroyed = 0;
  try {
    // The signer bound to it (keygen signs the certificate) refers to a handle about to go.
    for (auto it = st.signers.begin(); it != st.signers.end();) {
      if (it->second->key().name == g.label) {
        it = st.signers.erase(it);
      } else {
        ++it;
      }
    }
    Pkcs11Session s(*st.module, st.slot_id, true);
    // Both the label and the random CKA_ID of this attempt: nothing older can match.
    for (CK_OBJECT_HANDLE h : s.find({attr(CKA_LABEL, g.label.data(), g.label.size()), attr(CKA_ID, g.id.data(), g.id.size())}))
      if (s.fn()->C_DestroyObject(s.handle(), h) == CKR_OK) ++destroyed;
    // And the key record written beside the pair (key_record.hpp), which names the id in its value.
    destroyed += destroy_key_records(s, g.label, g.id);
  } catch (...) {
    // The token is gone: nothing more can be removed, and the caller is already failing.
  }
  return destroyed;
}

}  // namespace catsign::token
