// SPDX-License-Identifier: Apache-2.0
// A PKCS#11 module reached through its own function list (PKCS#11 v2.40 §5.2): loading it,
// sessions, object search and attributes, and the error type every token failure uses. The
// whole token layer speaks to the module through this one function list; docs/DESIGN.md
// ("Why raw PKCS#11") says why libp11 is not in the signing path.
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>
#include <string>
#include <vector>

#include "catsign/error.hpp"
#include "catsign/util/bytes.hpp"

namespace catsign::token {

// A failure reported by the token or its module, with its CK_RV. Its domain error follows
// from the CK_RV (errc_for_rv): token_gone when the device, the session or the login went
// away (the daemon locks, and only a person running `catsign unlock` brings it back),
// wrong_pin, pin_policy for a locked PIN, token for anything else.
class TokenError : public Error {
 public:
  TokenError(CK_RV rv, const std::string& message) : Error(errc_for_rv(rv), message), rv_(rv) {}
  CK_RV rv() const noexcept { return rv_; }
  bool token_gone() const noexcept { return is_token_gone(rv_); }
  static bool is_token_gone(CK_RV rv) noexcept;
  static Errc errc_for_rv(CK_RV rv) noexcept;

 private:
  CK_RV rv_;
};

// "CKR_PIN_INCORRECT (0xa0): The PIN is incorrect" style text, for one-line messages.
std::string describe_rv(CK_RV rv);

// One line for a PKCS#11 failure while `doing` something on a token, with what to do about it:
// "signing with key "k" on token "catsign": the token was removed (...); plug it in and run
// catsign unlock".
std::string token_failure(CK_RV rv, const std::string& doing, const std::string& token_label);

// Throws TokenError("<what>: <describe_rv>") unless rv is CKR_OK.
void check_rv(CK_RV rv, const std::string& what);

// A module loaded with dlopen. In PKCS#11 a login belongs to the application, not to a
// session (PKCS#11 v2.40 §5.6): every session of this process shares it, and it ends when the
// last session closes or C_Finalize runs.
class Pkcs11Module {
 public:
  // dlopen + C_GetFunctionList. Does not call C_Initialize. Throws TokenError naming the path.
  static Pkcs11Module load(const std::string& path);
  ~Pkcs11Module();
  Pkcs11Module(Pkcs11Module&& other) noexcept;
  Pkcs11Module& operator=(Pkcs11Module&& other) noexcept;
  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  // C_Initialize with OS locking (sessions are used from several threads); the destructor
  // then calls C_Finalize. Throws TokenError with the module's CK_RV.
  void initialize();
  bool initialized() const noexcept { return initialized_; }

  CK_FUNCTION_LIST* fn() const noexcept { return fn_; }
  const std::string& path() const noexcept { return path_; }
  // Identifies the loaded library: equal for every path (symlink, copy name) that dlopen
  // resolved to the same instance.
  const void* library() const noexcept { return handle_; }

  CK_TOKEN_INFO token_info(CK_SLOT_ID slot) const;
  // Slots whose token is present and initialised, with the given label (trailing blanks
  // ignored). SoftHSM renumbers slots: always look them up by label or serial.
  std::vector<CK_SLOT_ID> slots_with_token_label(const std::string& label) const;

 private:
  Pkcs11Module() = default;
  void reset() noexcept;

  void* handle_ = nullptr;
  CK_FUNCTION_LIST* fn_ = nullptr;
  bool initialized_ = false;
  std::string path_;
};

// One session, closed on destruction. Closing it never logs the token out while another
// session of the process stays open; PKCS#11 drops a login only when the last one closes.
class Pkcs11Session {
 public:
  Pkcs11Session(const Pkcs11Module& module, CK_SLOT_ID slot, bool read_write);
  ~Pkcs11Session();
  Pkcs11Session(const Pkcs11Session&) = delete;
  Pkcs11Session& operator=(const Pkcs11Session&) = delete;

  CK_SESSION_HANDLE handle() const noexcept { return session_; }
  CK_FUNCTION_LIST* fn() const noexcept { return fn_; }
  CK_SLOT_ID slot() const noexcept { return slot_; }

  // C_Login as the user; CKR_USER_ALREADY_LOGGED_IN counts as done. Tests and tools only:
  // Token::login applies the PIN policy first.
  void login(const std::string& pin);

  // Objects matching all of the given attributes (C_FindObjects*).
  std::vector<CK_OBJECT_HANDLE> find(std::vector<CK_ATTRIBUTE> match);

  // A CK_BBOOL attribute; nullopt when the object does not have it.
  std::optional<bool> get_bool(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
  // A byte-string attribute (label, id, modulus, ...); nullopt when absent or unreadable.
  std::optional<Bytes> get_bytes(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
  std::optional<CK_ULONG> get_ulong(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);

 private:
  CK_FUNCTION_LIST* fn_;
  CK_SLOT_ID slot_;
  CK_SESSION_HANDLE session_ = CK_INVALID_HANDLE;
};

}  // namespace catsign::token
