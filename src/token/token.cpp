#include "catsign/token/token.hpp"

#include <libp11.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <optional>
#include <utility>

#include "catsign/error.hpp"

namespace catsign::token {

namespace {

// --- the OpenSSL error queue --------------------------------------------------------------------
// SoftHSM queues harmless errors of its own (rdrand at C_Initialize), and libp11 reports the
// CK_RV of a failed call as an error of its "PKCS#11 module" library whose reason is the CK_RV.
// So: clear the queue before each operation, and right after it read what the operation left.
struct QueueReport {
  CK_RV rv = CKR_OK;  // the last CK_RV libp11 reported, CKR_OK if none
  std::string text;   // the last error of any library, for "other" failures
};

QueueReport drain_errors() {
  QueueReport out;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    const char* lib = ERR_lib_error_string(e);
    if (lib != nullptr && std::strcmp(lib, "PKCS#11 module") == 0) {
      out.rv = static_cast<CK_RV>(ERR_GET_REASON(e));
    }
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out.text = buf;
  }
  return out;
}

// Clears the queue on entry and on every exit of an operation, so nothing stale is left for
// the next caller to misread.
struct QueueScope {
  QueueScope() { ERR_clear_error(); }
  ~QueueScope() { ERR_clear_error(); }
  QueueScope(const QueueScope&) = delete;
  QueueScope& operator=(const QueueScope&) = delete;
};

std::string trim(const char* s) {
  if (s == nullptr) return {};
  std::string out(s);
  while (!out.empty() && (out.back() == ' ' || out.back() == '\0')) out.pop_back();
  return out;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string describe(const TokenIdentity& t) {
  return "label " + quoted(t.label) + " serial " + quoted(t.serial) + " manufacturer " + quoted(t.manufacturer);
}

Bytes strip_leading_zeros(Bytes b) {
  auto first = std::find_if(b.begin(), b.end(), [](std::uint8_t x) { return x != 0; });
  b.erase(b.begin(), first);
  return b;
}

const EVP_MD* evp_md(HashAlgorithm h) {
  switch (h) {
    case HashAlgorithm::sha256: return EVP_sha256();
    case HashAlgorithm::sha512: return EVP_sha512();
  }
  return nullptr;
}

// One line for a PKCS#11 failure while using the token; the daemon locks when the TokenError
// says token_gone().
std::string failure_line(CK_RV rv, const std::string& doing, const std::string& token_label) {
  const std::string where = doing + " on token " + quoted(token_label) + ": ";
  switch (rv) {
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
      return where + "the token was removed (" + describe_rv(rv) + "); plug it in and run catsign unlock";
    case CKR_USER_NOT_LOGGED_IN:
      return where + "the token is no longer logged in (" + describe_rv(rv) +
             "; another program may have reset it); run catsign unlock";
    case CKR_SESSION_CLOSED:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_OBJECT_HANDLE_INVALID:
    case CKR_KEY_HANDLE_INVALID:
      return where + "the session or key handle is gone (" + describe_rv(rv) +
             "; the token was reset, removed or logged out); run catsign unlock";
    case CKR_DEVICE_ERROR:
      return where + "the device failed (" + describe_rv(rv) + "); re-plug it and run catsign unlock";
    default:
      return where + describe_rv(rv);
  }
}

// The Signer the token implements: RSASSA-PKCS1-v1_5 through libp11's EVP_PKEY.
class TokenSigner final : public Signer {
 public:
  TokenSigner(EVP_PKEY* pkey, RsaPublicKey pub, std::string key_name, std::string token_label)
      : pkey_(pkey), pub_(std::move(pub)), key_name_(std::move(key_name)), token_label_(std::move(token_label)) {}
  ~TokenSigner() override { EVP_PKEY_free(pkey_); }
  TokenSigner(const TokenSigner&) = delete;
  TokenSigner& operator=(const TokenSigner&) = delete;

  const RsaPublicKey& public_key() const override { return pub_; }

  Bytes sign_digest(HashAlgorithm hash, ByteView digest) override {
    if (digest.size() != hash_size(hash)) {
      throw Error(Errc::internal, "sign_digest: a " + std::string(hash_name(hash)) + " digest has " +
                                      std::to_string(hash_size(hash)) + " bytes, not " +
                                      std::to_string(digest.size()));
    }
    QueueScope scope;
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(pkey_, nullptr),
                                                                    &EVP_PKEY_CTX_free);
    // Both the padding AND the md: without the md OpenSSL pads the bare digest with no
    // DigestInfo (DESIGN.md §5). With it, libp11 calls C_Sign(CKM_RSA_PKCS) over the DigestInfo.
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), evp_md(hash)) <= 0) {
      fail("preparing to sign");
    }
    std::size_t size = 0;
    if (EVP_PKEY_sign(ctx.get(), nullptr, &size, digest.data(), digest.size()) <= 0) fail("signing");
    Bytes sig(size);
    if (EVP_PKEY_sign(ctx.get(), sig.data(), &size, digest.data(), digest.size()) <= 0) fail("signing");
    sig.resize(size);
    // RFC 8017 §8.2.1: the signature is exactly k bytes, k the modulus length; C_Sign returns
    // it that way. A shorter result would be a token bug; pad it rather than emit a bad MPI.
    if (sig.size() < pub_.n.size()) sig.insert(sig.begin(), pub_.n.size() - sig.size(), 0);
    return sig;
  }

 private:
  [[noreturn]] void fail(const std::string& doing) {
    QueueReport q = drain_errors();
    if (q.rv != CKR_OK) throw TokenError(q.rv, failure_line(q.rv, doing + " with key " + quoted(key_name_), token_label_));
    throw TokenError(CKR_FUNCTION_FAILED, doing + " with key " + quoted(key_name_) + " on token " +
                                              quoted(token_label_) + " failed: " +
                                              (q.text.empty() ? "no reason given" : q.text));
  }

  EVP_PKEY* pkey_;
  RsaPublicKey pub_;
  std::string key_name_;
  std::string token_label_;
};

CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, void* value, std::size_t size) {
  return CK_ATTRIBUTE{type, value, static_cast<CK_ULONG>(size)};
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

std::string unblock_hint(const std::string& label, const std::string& module_path) {
  return "unblock it with the SO PIN (pkcs11-tool --module " + module_path + " --token-label " + label +
         " --login --login-type so --init-pin)";
}

}  // namespace

std::optional<Error> login_blocker(const PinState& state, const std::string& token_label,
                                   const std::string& module_path) {
  if (state.locked) {
    return Error(Errc::refused, "the user PIN of token " + quoted(token_label) + " is locked: " +
                                    unblock_hint(token_label, module_path));
  }
  if (state.final_try) {
    return Error(Errc::refused, "token " + quoted(token_label) +
                                    " has one PIN try left: refusing to spend it automatically; log in once "
                                    "by hand with the right PIN (pkcs11-tool --module " + module_path +
                                    " --token-label " + token_label +
                                    " --login --test) to reset the counter, then unlock again");
  }
  return std::nullopt;
}

// ------------------------------------------------------------------------------------------------

struct Token::State {
  Pkcs11Uri uri;
  std::string module_path;
  TokenIdentity identity;
  // The same module, dlopen'd a second time (same instance), for the calls libp11 lacks.
  // Declared first so it is destroyed last: after libp11 has finalised and unloaded.
  std::optional<Pkcs11Module> raw;
  // Released after libp11 has finalised the module (members are destroyed after ~State runs).
  OpenLibraryClaim claim;
  PKCS11_CTX* ctx = nullptr;
  bool loaded = false;
  PKCS11_SLOT* slots = nullptr;
  unsigned int nslots = 0;
  PKCS11_SLOT* slot = nullptr;
  CK_SLOT_ID slot_id = 0;
  bool logged_in = false;
  // One signer per key URI used (a catalog key and a package key may share the token).
  std::map<std::string, std::unique_ptr<TokenSigner>> signers;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // DESIGN.md §5: free every EVP_PKEY, log out, release all slots (this wipes libp11's PIN
  // copy), unload, free. Releasing slots before freeing keys is a use-after-free.
  ~State() {
    ERR_clear_error();
    signers.clear();
    if (logged_in && slot != nullptr) PKCS11_logout(slot);
    if (slots != nullptr) PKCS11_release_all_slots(ctx, slots, nslots);
    if (loaded) PKCS11_CTX_unload(ctx);
    if (ctx != nullptr) PKCS11_CTX_free(ctx);
    ERR_clear_error();
  }

  const std::string& label() const { return identity.label; }

  void require_login(const std::string& doing) const {
    if (!logged_in) {
      throw TokenError(CKR_USER_NOT_LOGGED_IN,
                       "log in to token " + quoted(identity.label) + " before " + doing);
    }
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
  QueueScope scope;
  auto st = std::make_unique<State>();
  st->uri = key_uri;
  st->module_path = module_path;
  // Our own dlopen first: its dlerror() says precisely why a module does not load.
  st->raw = Pkcs11Module::load(module_path);
  if (!st->claim.claim(st->raw->library())) {
    throw Error(Errc::internal, "PKCS#11 module " + module_path +
                                    " is already open in this process: use the one Token that holds it "
                                    "(a second would finalise the module under the first)");
  }

  st->ctx = PKCS11_CTX_new();
  if (st->ctx == nullptr) throw Error(Errc::internal, "PKCS11_CTX_new failed (out of memory?)");
  ERR_clear_error();
  if (PKCS11_CTX_load(st->ctx, module_path.c_str()) != 0) {
    QueueReport q = drain_errors();
    CK_RV rv = q.rv != CKR_OK ? q.rv : CKR_GENERAL_ERROR;
    throw TokenError(rv, "PKCS#11 module " + module_path + " loaded but did not initialise (" +
                             (q.rv != CKR_OK ? describe_rv(q.rv) : q.text.empty() ? "no reason given" : q.text) +
                             "); for SoftHSM check that SOFTHSM2_CONF names a readable config whose "
                             "token directory exists");
  }
  st->loaded = true;
  if (PKCS11_enumerate_slots(st->ctx, &st->slots, &st->nslots) != 0) {
    QueueReport q = drain_errors();
    CK_RV rv = q.rv != CKR_OK ? q.rv : CKR_GENERAL_ERROR;
    throw TokenError(rv, "cannot list the slots of PKCS#11 module " + module_path + ": " + describe_rv(rv));
  }

  std::vector<TokenIdentity> seen;
  std::vector<std::pair<PKCS11_SLOT*, TokenIdentity>> matches;
  for (unsigned int i = 0; i < st->nslots; ++i) {
    PKCS11_SLOT* s = &st->slots[i];
    if (s->token == nullptr || !s->token->initialized) continue;
    TokenIdentity id{trim(s->token->label), trim(s->token->serialnr), trim(s->token->manufacturer),
                     trim(s->token->model)};
    seen.push_back(id);
    if (key_uri.matches(id)) matches.emplace_back(s, id);
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
  st->slot = matches.front().first;
  st->identity = matches.front().second;
  st->slot_id = PKCS11_get_slotid_from_slot(st->slot);
  return Token(std::move(st));
}

PinState Token::pin_state() const {
  QueueScope scope;
  CK_TOKEN_INFO info = state_->raw->token_info(state_->slot_id);
  PinState s;
  s.count_low = (info.flags & CKF_USER_PIN_COUNT_LOW) != 0;
  s.final_try = (info.flags & CKF_USER_PIN_FINAL_TRY) != 0;
  s.locked = (info.flags & CKF_USER_PIN_LOCKED) != 0;
  s.protected_path = (info.flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
  return s;
}

void Token::login(const SecureString& pin) {
  State& st = *state_;
  const std::string tok = quoted(st.label());
  if (st.logged_in) {
    // libp11 answers success to a second PKCS11_login whatever the PIN: refuse instead.
    throw Error(Errc::usage, "already logged in to token " + tok + "; lock first to log in again");
  }
  const std::string unblock = unblock_hint(st.label(), st.module_path);
  PinState before = pin_state();
  if (auto blocker = login_blocker(before, st.label(), st.module_path)) throw *blocker;
  if (pin.empty() && !before.protected_path) {
    throw Error(Errc::usage, "empty PIN for token " + tok + ": give the user PIN");
  }

  QueueScope scope;
  // An empty PIN on a token with a PIN pad: C_Login(NULL, 0) and the reader asks for it.
  int rc = PKCS11_login(st.slot, 0, pin.empty() ? nullptr : pin.c_str());
  QueueReport q = drain_errors();
  if (rc != 0) {
    CK_RV rv = q.rv != CKR_OK ? q.rv : CKR_FUNCTION_FAILED;
    if (rv == CKR_PIN_INCORRECT) {
      std::string hint;
      try {
        PinState after = pin_state();
        if (after.locked) {
          hint = "; the PIN is now locked: " + unblock;
        } else if (after.final_try) {
          hint = "; ONE try left: catsign will not spend it, check the PIN and log in by hand first";
        } else if (after.count_low) {
          // PKCS#11 gives no number: COUNT_LOW means "a wrong PIN since the last good login".
          hint = "; the token now counts failed tries (CKF_USER_PIN_COUNT_LOW): check the PIN before trying again";
        }
      } catch (const Error&) {
      }
      throw TokenError(rv, "wrong PIN for token " + tok + hint);
    }
    if (rv == CKR_PIN_LOCKED) throw TokenError(rv, "the user PIN of token " + tok + " is locked: " + unblock);
    if (rv == CKR_PIN_LEN_RANGE) throw TokenError(rv, "wrong PIN for token " + tok + ": it has the wrong length");
    if (rv == CKR_USER_PIN_NOT_INITIALIZED) {
      throw TokenError(rv, "token " + tok + " has no user PIN yet: set one with the SO PIN first");
    }
    throw TokenError(rv, failure_line(rv, "logging in", st.label()));
  }
  st.logged_in = true;
}

std::vector<KeyInfo> Token::private_keys() {
  QueueScope scope;
  Pkcs11Session s(*state_->raw, state_->slot_id, false);
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  std::vector<KeyInfo> out;
  for (CK_OBJECT_HANDLE h : s.find({attr(CKA_CLASS, &cls, sizeof cls)})) {
    KeyInfo k;
    if (auto label = s.get_bytes(h, CKA_LABEL)) k.label.assign(label->begin(), label->end());
    if (auto id = s.get_bytes(h, CKA_ID)) k.id = *id;
    out.push_back(std::move(k));
  }
  return out;
}

bool Token::has_private_key(const std::string& label) {
  auto keys = private_keys();
  return std::any_of(keys.begin(), keys.end(), [&](const KeyInfo& k) { return k.label == label; });
}

Signer& Token::signer() { return signer(state_->uri); }

Signer& Token::signer(const Pkcs11Uri& uri) {
  State& st = *state_;
  if (auto it = st.signers.find(uri.text); it != st.signers.end()) return *it->second;
  const std::string tok = quoted(st.label());
  if (!uri.names_object()) {
    throw Error(Errc::usage, "PKCS#11 URI " + uri.text + " names no key: add object=LABEL (or id=...)");
  }
  if (!uri.matches(st.identity)) {
    throw Error(Errc::usage, "key URI " + uri.text + " names another token than " + tok +
                                 ": catsign uses one token at a time; keep its keys on the same token");
  }
  st.require_login("using its key");
  QueueScope scope;

  // Find the key with raw PKCS#11 first: it reads attributes libp11 does not show.
  Pkcs11Session s(*st.raw, st.slot_id, false);
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  std::vector<CK_ATTRIBUTE> match{attr(CKA_CLASS, &cls, sizeof cls)};
  std::string label = uri.object_label.value_or("");
  Bytes id = uri.object_id.value_or(Bytes{});
  if (uri.object_label) match.push_back(attr(CKA_LABEL, label.data(), label.size()));
  if (uri.object_id) match.push_back(attr(CKA_ID, id.data(), id.size()));
  std::vector<CK_OBJECT_HANDLE> found = s.find(match);
  if (found.size() != 1) {
    std::string list;
    for (const KeyInfo& k : private_keys()) {
      list += (list.empty() ? "" : ", ") + quoted(k.label) + " (id " + to_hex(k.id) + ")";
    }
    if (found.empty()) {
      throw Error(Errc::usage, "no private key " + uri.describe_object() + " on token " + tok + " (URI " +
                                   uri.text + "); keys seen: " + (list.empty() ? "none" : list) +
                                   "; fix the uri in the config or run catsign keygen");
    }
    throw Error(Errc::usage, "more than one private key matches " + uri.text + " on token " + tok +
                                 ": " + list + "; add id=... to the URI");
  }
  CK_OBJECT_HANDLE key = found.front();
  Bytes key_label_bytes = s.get_bytes(key, CKA_LABEL).value_or(Bytes{});
  std::string key_label(key_label_bytes.begin(), key_label_bytes.end());
  Bytes key_id = s.get_bytes(key, CKA_ID).value_or(Bytes{});
  std::string name = key_label.empty() ? "id " + to_hex(key_id) : key_label;

  if (s.get_ulong(key, CKA_KEY_TYPE).value_or(CKK_RSA) != CKK_RSA) {
    throw Error(Errc::unsupported, "key " + quoted(name) + " on token " + tok + " is not an RSA key: catsign signs with RSA only");
  }
  if (s.get_bool(key, CKA_ALWAYS_AUTHENTICATE).value_or(false)) {
    throw Error(Errc::refused, "key " + quoted(name) +
                                   " needs the PIN for every signature (CKA_ALWAYS_AUTHENTICATE): turn off "
                                   "forcesig on an OpenPGP card, or use PIV slot 9a");
  }
  std::optional<Bytes> n = s.get_bytes(key, CKA_MODULUS);
  std::optional<Bytes> e = s.get_bytes(key, CKA_PUBLIC_EXPONENT);
  if (!n || !e || n->empty() || e->empty()) {
    // Some tokens keep n and e only on the public key object: find it by the shared CKA_ID.
    CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY;
    auto pubs = s.find({attr(CKA_CLASS, &pub_cls, sizeof pub_cls), attr(CKA_ID, key_id.data(), key_id.size())});
    if (pubs.size() == 1) {
      n = s.get_bytes(pubs.front(), CKA_MODULUS);
      e = s.get_bytes(pubs.front(), CKA_PUBLIC_EXPONENT);
    }
  }
  if (!n || !e || n->empty() || e->empty()) {
    throw TokenError(CKR_ATTRIBUTE_TYPE_INVALID, "cannot read the public half (n, e) of key " + quoted(name) +
                                                     " on token " + tok);
  }
  RsaPublicKey pub{strip_leading_zeros(*n), strip_leading_zeros(*e)};

  // The same key through libp11, for the EVP_PKEY that signs. Enumerate again after each login
  // (DESIGN.md §5): handles from before a logout are stale.
  PKCS11_KEY* keys = nullptr;
  unsigned int nkeys = 0;
  if (PKCS11_enumerate_keys(st.slot->token, &keys, &nkeys) != 0) {
    QueueReport q = drain_errors();
    CK_RV rv = q.rv != CKR_OK ? q.rv : CKR_FUNCTION_FAILED;
    throw TokenError(rv, failure_line(rv, "listing keys", st.label()));
  }
  PKCS11_KEY* chosen = nullptr;
  for (unsigned int i = 0; i < nkeys; ++i) {
    PKCS11_KEY* k = &keys[i];
    if (!k->isPrivate) continue;
    if (trim(k->label) != key_label) continue;
    if (k->id_len != key_id.size() || (k->id_len != 0 && std::memcmp(k->id, key_id.data(), k->id_len) != 0)) continue;
    if (chosen != nullptr) {
      throw Error(Errc::usage, "more than one private key labelled " + quoted(key_label) + " with id " +
                                   to_hex(key_id) + " on token " + tok + ": give each key its own id");
    }
    chosen = k;
  }
  if (chosen == nullptr) {
    throw TokenError(CKR_OBJECT_HANDLE_INVALID, "libp11 does not list key " + quoted(name) + " on token " + tok +
                                                    " although the token has it; run catsign unlock again");
  }
  EVP_PKEY* pkey = PKCS11_get_private_key(chosen);
  if (pkey == nullptr) {
    QueueReport q = drain_errors();
    CK_RV rv = q.rv != CKR_OK ? q.rv : CKR_FUNCTION_FAILED;
    throw TokenError(rv, failure_line(rv, "loading key " + quoted(name), st.label()));
  }
  auto& slot_signer = st.signers[uri.text];
  slot_signer = std::make_unique<TokenSigner>(pkey, std::move(pub), name, st.label());
  return *slot_signer;
}

RsaPublicKey Token::generate_key(const std::string& label, unsigned bits) {
  State& st = *state_;
  const std::string tok = quoted(st.label());
  if (bits != 2048 && bits != 3072 && bits != 4096) {
    throw Error(Errc::usage, "RSA key size must be 2048, 3072 or 4096 bits, not " + std::to_string(bits));
  }
  if (label.empty()) throw Error(Errc::usage, "the new key needs a label");
  st.require_login("generating a key");
  QueueScope scope;

  Pkcs11Session s(*st.raw, st.slot_id, true);
  std::string label_copy = label;  // PKCS#11 templates take non-const pointers
  if (!s.find({attr(CKA_LABEL, label_copy.data(), label_copy.size())}).empty()) {
    throw Error(Errc::refused, "token " + tok + " already has an object labelled " + quoted(label) +
                                   ": catsign never overwrites a key; choose another label, or delete the old "
                                   "key deliberately with pkcs11-tool --delete-object");
  }

  // A fresh random CKA_ID shared by both halves, so tools pair them (RFC 7512 id=).
  Bytes id(16);
  if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) {
    throw Error(Errc::internal, "cannot draw random bytes for the key id");
  }
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_ULONG modulus_bits = bits;
  CK_BYTE exponent[] = {0x01, 0x00, 0x01};  // 65537
  std::vector<CK_ATTRIBUTE> pub_template{
      attr(CKA_TOKEN, &yes, sizeof yes),       attr(CKA_PRIVATE, &no, sizeof no),
      attr(CKA_VERIFY, &yes, sizeof yes),      attr(CKA_ENCRYPT, &no, sizeof no),
      attr(CKA_WRAP, &no, sizeof no),          attr(CKA_MODULUS_BITS, &modulus_bits, sizeof modulus_bits),
      attr(CKA_PUBLIC_EXPONENT, exponent, sizeof exponent),
      attr(CKA_LABEL, label_copy.data(), label_copy.size()), attr(CKA_ID, id.data(), id.size()),
  };
  // The private key signs and does nothing else, and never leaves the token (DESIGN.md §5:
  // libp11's own keygen always allows decrypt and unwrap).
  std::vector<CK_ATTRIBUTE> priv_template{
      attr(CKA_TOKEN, &yes, sizeof yes),       attr(CKA_PRIVATE, &yes, sizeof yes),
      attr(CKA_SENSITIVE, &yes, sizeof yes),   attr(CKA_EXTRACTABLE, &no, sizeof no),
      attr(CKA_SIGN, &yes, sizeof yes),        attr(CKA_DECRYPT, &no, sizeof no),
      attr(CKA_UNWRAP, &no, sizeof no),        attr(CKA_DERIVE, &no, sizeof no),
      attr(CKA_SIGN_RECOVER, &no, sizeof no),
      attr(CKA_LABEL, label_copy.data(), label_copy.size()), attr(CKA_ID, id.data(), id.size()),
  };
  CK_MECHANISM mech{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
  CK_RV rv = s.fn()->C_GenerateKeyPair(s.handle(), &mech, pub_template.data(),
                                       static_cast<CK_ULONG>(pub_template.size()), priv_template.data(),
                                       static_cast<CK_ULONG>(priv_template.size()), &pub, &priv);
  if (rv != CKR_OK) throw TokenError(rv, failure_line(rv, "generating key " + quoted(label), st.label()));

  // Trust, but read back: a token that silently ignored part of the template gets its pair
  // destroyed rather than a key that can decrypt or be exported.
  struct Want {
    CK_ATTRIBUTE_TYPE type;
    bool value;
    const char* name;
  };
  const Want wants[] = {{CKA_SIGN, true, "CKA_SIGN"},           {CKA_DECRYPT, false, "CKA_DECRYPT"},
                        {CKA_UNWRAP, false, "CKA_UNWRAP"},      {CKA_DERIVE, false, "CKA_DERIVE"},
                        {CKA_SENSITIVE, true, "CKA_SENSITIVE"}, {CKA_EXTRACTABLE, false, "CKA_EXTRACTABLE"},
                        {CKA_PRIVATE, true, "CKA_PRIVATE"},     {CKA_TOKEN, true, "CKA_TOKEN"}};
  for (const Want& w : wants) {
    std::optional<bool> have = s.get_bool(priv, w.type);
    if (!have || *have != w.value) {
      s.fn()->C_DestroyObject(s.handle(), priv);
      s.fn()->C_DestroyObject(s.handle(), pub);
      throw TokenError(CKR_TEMPLATE_INCONSISTENT, "token " + tok + " did not honour " + w.name + "=" +
                                                      (w.value ? "true" : "false") + " for key " + quoted(label) +
                                                      "; the new key pair was deleted");
    }
  }
  std::optional<Bytes> n = s.get_bytes(pub, CKA_MODULUS);
  std::optional<Bytes> e = s.get_bytes(pub, CKA_PUBLIC_EXPONENT);
  if (!n || !e) throw TokenError(CKR_ATTRIBUTE_TYPE_INVALID, "cannot read the new public key " + quoted(label));
  return RsaPublicKey{strip_leading_zeros(*n), strip_leading_zeros(*e)};
}

}  // namespace catsign::token
