// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/login_policy.hpp"

#include "catsign/token/pkcs11_module.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::token {

namespace {

std::string unblock_hint(const std::string& label, const std::string& module_path) {
  return "unblock it with the SO PIN (pkcs11-tool --module " + module_path + " --token-label " + label +
         " --login --login-type so --init-pin)";
}

}  // namespace

PinState PinState::from_flags(CK_FLAGS flags) noexcept {
  PinState s;
  s.count_low = (flags & CKF_USER_PIN_COUNT_LOW) != 0;
  s.final_try = (flags & CKF_USER_PIN_FINAL_TRY) != 0;
  s.locked = (flags & CKF_USER_PIN_LOCKED) != 0;
  s.protected_path = (flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
  return s;
}

std::optional<Error> login_blocker(const PinState& state, const std::string& token_label,
                                   const std::string& module_path) {
  const std::string tok = quote_label(token_label);
  if (state.locked)
    return Error(Errc::pin_policy, "token " + tok + ": the user PIN is locked: " + unblock_hint(token_label, module_path));
  if (state.final_try)
    return Error(Errc::pin_policy, "token " + tok +
                                       " has one PIN try left: refusing to spend it automatically; log in once "
                                       "by hand with the right PIN (pkcs11-tool --module " + module_path +
                                       " --token-label " + token_label +
                                       " --login --test) to reset the counter, then unlock again");
  return std::nullopt;
}

void check_login_allowed(const PinState& state, bool pin_given, const std::string& token_label,
                         const std::string& module_path) {
  if (auto blocker = login_blocker(state, token_label, module_path)) throw *blocker;
  if (!pin_given && !state.protected_path)
    throw Error(Errc::usage, "empty PIN for token " + quote_label(token_label) +
                                 ": give the user PIN (the token has no PIN pad)");
}

std::string login_failure(CK_RV rv, const std::optional<PinState>& after, const std::string& token_label,
                          const std::string& module_path) {
  const std::string tok = quote_label(token_label);
  switch (rv) {
    case CKR_PIN_INCORRECT: {
      std::string hint;
      if (after && after->locked) {
        hint = "; the PIN is now locked: " + unblock_hint(token_label, module_path);
      } else if (after && after->final_try) {
        hint = "; ONE try left: catsign will not spend it, check the PIN and log in by hand first";
      } else if (after && after->count_low) {
        // PKCS#11 gives no number: COUNT_LOW means "a wrong PIN since the last good login".
        hint = "; the token now counts failed tries (CKF_USER_PIN_COUNT_LOW): check the PIN before trying again";
      }
      return "wrong PIN for token " + tok + hint;
    }
    case CKR_PIN_LEN_RANGE: return "wrong PIN for token " + tok + ": it has the wrong length";
    case CKR_PIN_LOCKED: return "token " + tok + ": the user PIN is locked: " + unblock_hint(token_label, module_path);
    case CKR_USER_PIN_NOT_INITIALIZED: return "token " + tok + " has no user PIN yet: set one with the SO PIN first";
    default: return "logging in on token " + tok + ": " + describe_rv(rv);
  }
}

}  // namespace catsign::token
