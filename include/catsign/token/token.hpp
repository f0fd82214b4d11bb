// SPDX-License-Identifier: Apache-2.0
// A PKCS#11 token: the module, loaded and initialised once, the chosen token, its login, the
// signing keys named by PKCS#11 URIs, and on-token key generation. Key lookup, the login
// policy and the signer live in their own files (key_lookup.hpp, login_policy.hpp,
// token_signer.hpp); this is what ties them to one module and one slot.
//
// Threads: Token's own methods are for one thread at a time. A Signer's sign_digest may run
// on several threads at once (each call borrows its own session).
//
// One Token per module per process: PKCS#11 initialises a module once per process, and
// destroying a Token finalises it, which would pull the module out from under any other
// Token. Token::open refuses a second Token on a module that is already open.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catsign/signer.hpp"
#include "catsign/token/key_lookup.hpp"
#include "catsign/token/key_record.hpp"
#include "catsign/token/login_policy.hpp"
#include "catsign/token/pkcs11_module.hpp"
#include "catsign/token/pkcs11_uri.hpp"
#include "catsign/util/secure_string.hpp"

namespace catsign::token {

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

  // Tears down: forget the signers, close their sessions, log out, close the login session,
  // C_Finalize, unload. catsign keeps no copy of the PIN; the module drops its login state.
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

  // Logs the user in, once, under the login policy (login_policy.hpp): refused before C_Login
  // when the PIN is locked or on its final try. A wrong PIN throws TokenError
  // (CKR_PIN_INCORRECT, Errc::wrong_pin) with the tries-left hints the token gives. An empty
  // PIN logs in through the protected authentication path (PIN pad) when the token has one.
  // Calling it again while logged in throws Error(usage): a second login can't be checked.
  void login(const SecureString& pin);

  // Private keys visible on the token (after login: private keys are private objects).
  std::vector<KeyInfo> private_keys();
  bool has_private_key(const std::string& label);

  // The Signer for the key the URI names (object label and/or id), found after login. It is
  // owned by this Token and valid until the Token is destroyed. Throws when the URI names no
  // key, when no key or more than one matches (listing the keys seen), when the key is not
  // RSA, ECDSA (P-256, P-384) or Ed25519, or when it has CKA_ALWAYS_AUTHENTICATE (it would want the PIN for every signature).
  Signer& signer();
  // The same for another key on this token (e.g. the package key beside the catalog key).
  // Refuses a URI that names another token.
  Signer& signer(const Pkcs11Uri& key_uri);
  // What an operator should hear about that key before trusting it (it can also decrypt);
  // finds the key like signer() does.
  const std::vector<std::string>& key_warnings(const Pkcs11Uri& key_uri);

  // A Signer with a PKCS#11 session of its own, opened now and kept for its life (reopened
  // only after a failed call), for one thread at a time: a daemon worker signs on it and never
  // waits for the shared pool. The key is found and checked as signer(key_uri) does. Requires
  // login; every one must be destroyed before this Token.
  std::unique_ptr<Signer> open_session_signer(const Pkcs11Uri& key_uri);

  // Generates a key pair ON the token with C_GenerateKeyPair and the explicit template of its
  // type (key_template.hpp): the private key signs and does nothing else, is sensitive, never
  // extractable, private and persistent; both halves share `label` and a fresh random CKA_ID.
  // Requires login. An existing object with that label is never overwritten. The template is
  // checked by reading both halves' attributes back; a token that ignored any of it gets the
  // pair destroyed and an error. Then the key record (key_record.hpp) with `created` and
  // `expiration` is written beside it; if that fails, the pair is destroyed too. A failure of
  // C_GenerateKeyPair itself also deletes whatever the attempt left (a token may fail after
  // making one half).
  //
  // A token that refuses the template is asked once more without CKA_DECRYPT and CKA_ENCRYPT,
  // which it may decide itself (key_template.hpp without_token_decided_usage); the rest is
  // read back as before. An EC key the token then gave CKA_DECRYPT is kept when the token
  // can't decrypt or derive with EC keys (sign-only in effect, key_usage.hpp); a key that
  // can decrypt is deleted again (Error refused) unless `allow_decrypt`, then kept with a
  // warning. `notice` hears the retry and either outcome, one line each, for the operator.
  using KeygenNotice = std::function<void(const std::string&)>;
  PublicKeyMaterial generate_key(const std::string& label, const KeySpec& spec, std::uint32_t created,
                                 std::uint32_t expiration = 0, const KeygenNotice& notice = {},
                                 bool allow_decrypt = false);
  // RSA of `bits` (2048, 3072, 4096), created now.
  PublicKeyMaterial generate_key(const std::string& label, unsigned bits);

  // Every private key with what `catsign keys` shows of it. Requires login.
  std::vector<KeyDetails> key_details();
  // The label and CKA_ID of the one key `uri` names (as signer() finds it). Requires login.
  KeyInfo key_info(const Pkcs11Uri& uri);
  // The key record of the key labelled `label` with CKA_ID `id`, or nullopt. Requires login.
  std::optional<KeyRecord> key_record(const std::string& label, ByteView id);
  // Creates or replaces that record. Requires login.
  void write_key_record(const std::string& label, const KeyRecord& record);
  // Deletes the pair generate_key made in this Token (its label and CKA_ID), e.g. when the
  // certificate could not be made or written: a failed keygen leaves no key behind. Forgets
  // its signer. Returns how many objects were deleted; never throws.
  std::size_t discard_generated_key() noexcept;

 private:
  struct State;  // the module, the slot, the login session, the session pool, the signers
  explicit Token(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace catsign::token
