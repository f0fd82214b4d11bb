// Raw PKCS#11 (the module's own function list) for what libp11 0.4.12 does not expose:
// C_GetTokenInfo flags, reading attributes such as CKA_ALWAYS_AUTHENTICATE, and
// C_GenerateKeyPair with an explicit template. Also the error type every token failure uses.
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>
#include <string>
#include <vector>

#include "catsign/error.hpp"
#include "catsign/util/bytes.hpp"

namespace catsign::token {

// A failure reported by the token or its module: Errc::token plus the CK_RV when there is one.
// The daemon locks when token_gone() is true: the device, the session or the login went away,
// and only a person running `catsign unlock` can bring it back.
class TokenError : public Error {
 public:
  TokenError(CK_RV rv, const std::string& message) : Error(Errc::token, message), rv_(rv) {}
  CK_RV rv() const noexcept { return rv_; }
  bool token_gone() const noexcept { return is_token_gone(rv_); }
  static bool is_token_gone(CK_RV rv) noexcept;

 private:
  CK_RV rv_;
};

// "CKR_PIN_INCORRECT (0xa0): The PIN is incorrect" style text, for one-line messages.
std::string describe_rv(CK_RV rv);

// Throws TokenError("<what>: <describe_rv>") unless rv is CKR_OK.
void check_rv(CK_RV rv, const std::string& what);

// A module loaded with dlopen. Loading the same path that libp11 already loaded gives the same
// library instance (dlopen counts references), so sessions opened here share the login state
// of libp11's sessions: in PKCS#11 a login belongs to the application, not to a session.
class Pkcs11Module {
 public:
  // dlopen + C_GetFunctionList. Does not call C_Initialize. Throws TokenError naming the path.
  static Pkcs11Module load(const std::string& path);
  ~Pkcs11Module();
  Pkcs11Module(Pkcs11Module&& other) noexcept;
  Pkcs11Module& operator=(Pkcs11Module&& other) noexcept;
  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  // C_Initialize for standalone use (tests, tools); the destructor then calls C_Finalize.
  // Never call it on a module libp11 has loaded: the second C_Initialize fails and a
  // C_Finalize here would pull the module out from under libp11.
  void initialize();

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

// One session, closed on destruction. Closing it never logs the token out while libp11 keeps
// its own session open; a login is dropped by PKCS#11 only when the last session closes.
class Pkcs11Session {
 public:
  Pkcs11Session(const Pkcs11Module& module, CK_SLOT_ID slot, bool read_write);
  ~Pkcs11Session();
  Pkcs11Session(const Pkcs11Session&) = delete;
  Pkcs11Session& operator=(const Pkcs11Session&) = delete;

  CK_SESSION_HANDLE handle() const noexcept { return session_; }
  CK_FUNCTION_LIST* fn() const noexcept { return fn_; }

  // C_Login as the user. For standalone use only (see Pkcs11Module::initialize).
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
  CK_SESSION_HANDLE session_ = CK_INVALID_HANDLE;
};

}  // namespace catsign::token
