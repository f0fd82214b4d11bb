// A PKCS#11 token reached through libp11 and OpenSSL 3: the module, the chosen token, its
// login, the signing key named by a PKCS#11 URI, and on-token key generation.
//
// Threads: Token's own methods are for one thread at a time. The Signer's sign_digest may run
// on several threads at once (libp11 takes a session from its pool for each signature).
//
// One Token per module per process: PKCS#11 initialises a module once per process, and
// destroying a Token finalises it, which would pull the module out from under any other
// Token. Token::open refuses a second Token on a module that is already open.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catsign/signer.hpp"
#include "catsign/token/pkcs11_module.hpp"
#include "catsign/token/pkcs11_uri.hpp"
#include "catsign/util/secure_string.hpp"

namespace catsign::token {

// The user-PIN flags of CK_TOKEN_INFO, read fresh from the token (they change after a failed
// login). All of them are readable before C_Login.
struct PinState {
  bool count_low = false;        // CKF_USER_PIN_COUNT_LOW: a wrong PIN was entered
  bool final_try = false;        // CKF_USER_PIN_FINAL_TRY: one more wrong PIN locks it
  bool locked = false;           // CKF_USER_PIN_LOCKED
  bool protected_path = false;   // CKF_PROTECTED_AUTHENTICATION_PATH: PIN pad, log in with no PIN
};

// Why a login must not be attempted now, or nullopt: the user PIN is locked, or one try is
// left (never spend the last try automatically). Error(Errc::refused), one line naming the fix.
// Token::login throws it; the daemon can show it in its status before anyone types a PIN.
std::optional<Error> login_blocker(const PinState& state, const std::string& token_label,
                                   const std::string& module_path);

struct KeyInfo {
  std::string label;
  Bytes id;
};

class Token {
 public:
  // Loads the module and selects the token that the URI's token attributes (label, serial,
  // manufacturer, model) name. A URI naming no token selects the only initialised token.
  // Errors: module that fails to load or initialise (names the path and what to check);
  // no matching token (lists the tokens seen; TokenError with CKR_TOKEN_NOT_PRESENT, so
  // token_gone() is true); more than one matching token (add serial= to the URI); the module
  // already open in another Token of this process (Errc::internal).
  static Token open(const std::string& module_path, const std::string& key_uri);
  static Token open(const std::string& module_path, const Pkcs11Uri& key_uri);

  // Tears down in the order that is valgrind-clean and wipes libp11's copy of the PIN
  // (DESIGN.md §5): free every EVP_PKEY, log out, release all slots, unload, free.
  ~Token();
  Token(Token&& other) noexcept;
  Token& operator=(Token&& other) noexcept;
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;

  const TokenIdentity& identity() const noexcept;
  const Pkcs11Uri& uri() const noexcept;
  CK_SLOT_ID slot_id() const noexcept;

  PinState pin_state() const;
  bool logged_in() const noexcept;

  // Logs the user in, once. Refuses before C_Login when the PIN is locked or on its final try
  // (never spends the last try automatically). A wrong PIN throws TokenError(CKR_PIN_INCORRECT)
  // saying so, with the tries-left hints the token gives. An empty PIN logs in through the
  // protected authentication path (PIN pad) when the token has one, and is refused otherwise.
  // Calling it again while logged in throws Error(usage): libp11 would report success for any
  // PIN, so a second login could never be checked.
  void login(const SecureString& pin);

  // Private keys visible on the token (after login: private keys are private objects).
  std::vector<KeyInfo> private_keys();
  bool has_private_key(const std::string& label);

  // The Signer for the key the URI names (object label and/or id), found after login. It is
  // owned by this Token and valid until the Token is destroyed. Throws when the URI names no
  // key, when no key or more than one matches (listing the keys seen), when the key is not
  // RSA, or when it has CKA_ALWAYS_AUTHENTICATE (it would want the PIN for every signature).
  Signer& signer();
  // The same for another key on this token (e.g. the package key beside the catalog key).
  // Refuses a URI that names another token.
  Signer& signer(const Pkcs11Uri& key_uri);

  // Generates an RSA key pair ON the token with C_GenerateKeyPair and an explicit template:
  // the private key signs and does nothing else, is sensitive, never extractable, private and
  // persistent; both halves share `label` and a fresh random CKA_ID; e = 65537. Requires login.
  // bits: 2048, 3072 or 4096. An existing object with that label is never overwritten.
  // The template is checked by reading the private key's attributes back; a token that
  // ignored it gets the pair destroyed and an error.
  RsaPublicKey generate_key(const std::string& label, unsigned bits);

 private:
  struct State;  // libp11 context, slots, the raw module, the signer; defined in token.cpp
  explicit Token(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace catsign::token
