// SPDX-License-Identifier: Apache-2.0
// When catsign logs in to a token, and what it says when it won't or can't: one policy for
// the one-shot commands and the daemon, so `catsign sign` and `catsign unlock` refuse the same
// token state with the same words (docs/DESIGN.md "Login policy").
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>
#include <string>

#include "catsign/error.hpp"

namespace catsign::token {

// The user-PIN flags of CK_TOKEN_INFO (PKCS#11 v2.40 §5.5), read fresh from the token: they
// change after a failed login. All of them are readable before C_Login.
struct PinState {
  bool count_low = false;        // CKF_USER_PIN_COUNT_LOW: a wrong PIN was entered
  bool final_try = false;        // CKF_USER_PIN_FINAL_TRY: one more wrong PIN locks it
  bool locked = false;           // CKF_USER_PIN_LOCKED
  bool protected_path = false;   // CKF_PROTECTED_AUTHENTICATION_PATH: PIN pad, log in with no PIN

  static PinState from_flags(CK_FLAGS flags) noexcept;
};

// Why a login must not be attempted now, or nullopt: the user PIN is locked, or one try is
// left (the last try is never spent automatically). Error(pin_policy), one line naming the
// fix with the SO-PIN command for this token.
std::optional<Error> login_blocker(const PinState& state, const std::string& token_label,
                                   const std::string& module_path);

// Everything checked before C_Login: login_blocker, and an empty PIN only on a PIN pad.
// Throws the Error.
void check_login_allowed(const PinState& state, bool pin_given, const std::string& token_label,
                         const std::string& module_path);

// The one line for a C_Login that failed with `rv`; `after` is the PIN state read right after,
// when it could be, for the tries-left hint.
std::string login_failure(CK_RV rv, const std::optional<PinState>& after, const std::string& token_label,
                          const std::string& module_path);

}  // namespace catsign::token
