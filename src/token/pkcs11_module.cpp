// SPDX-License-Identifier: Apache-2.0
#include "catsign/token/pkcs11_module.hpp"

#include <dlfcn.h>
#include <p11-kit/p11-kit.h>

#include <cstdio>
#include <utility>

#include "catsign/util/quote.hpp"

namespace catsign::token {

namespace {

const char* rv_name(CK_RV rv) {
  switch (rv) {
#define CATSIGN_CKR(name) \
  case name: return #name;
    CATSIGN_CKR(CKR_OK)
    CATSIGN_CKR(CKR_CANCEL)
    CATSIGN_CKR(CKR_HOST_MEMORY)
    CATSIGN_CKR(CKR_SLOT_ID_INVALID)
    CATSIGN_CKR(CKR_GENERAL_ERROR)
    CATSIGN_CKR(CKR_FUNCTION_FAILED)
    CATSIGN_CKR(CKR_ARGUMENTS_BAD)
    CATSIGN_CKR(CKR_ATTRIBUTE_SENSITIVE)
    CATSIGN_CKR(CKR_ATTRIBUTE_TYPE_INVALID)
    CATSIGN_CKR(CKR_ATTRIBUTE_VALUE_INVALID)
    CATSIGN_CKR(CKR_DEVICE_ERROR)
    CATSIGN_CKR(CKR_DEVICE_MEMORY)
    CATSIGN_CKR(CKR_DEVICE_REMOVED)
    CATSIGN_CKR(CKR_FUNCTION_CANCELED)
    CATSIGN_CKR(CKR_FUNCTION_NOT_SUPPORTED)
    CATSIGN_CKR(CKR_KEY_HANDLE_INVALID)
    CATSIGN_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED)
    CATSIGN_CKR(CKR_MECHANISM_INVALID)
    CATSIGN_CKR(CKR_OBJECT_HANDLE_INVALID)
    CATSIGN_CKR(CKR_OPERATION_ACTIVE)
    CATSIGN_CKR(CKR_PIN_INCORRECT)
    CATSIGN_CKR(CKR_PIN_LEN_RANGE)
    CATSIGN_CKR(CKR_PIN_EXPIRED)
    CATSIGN_CKR(CKR_PIN_LOCKED)
    CATSIGN_CKR(CKR_SESSION_CLOSED)
    CATSIGN_CKR(CKR_SESSION_COUNT)
    CATSIGN_CKR(CKR_SESSION_HANDLE_INVALID)
    CATSIGN_CKR(CKR_SESSION_READ_ONLY)
    CATSIGN_CKR(CKR_TEMPLATE_INCOMPLETE)
    CATSIGN_CKR(CKR_TEMPLATE_INCONSISTENT)
    CATSIGN_CKR(CKR_TOKEN_NOT_PRESENT)
    CATSIGN_CKR(CKR_TOKEN_NOT_RECOGNIZED)
    CATSIGN_CKR(CKR_TOKEN_WRITE_PROTECTED)
    CATSIGN_CKR(CKR_USER_ALREADY_LOGGED_IN)
    CATSIGN_CKR(CKR_USER_NOT_LOGGED_IN)
    CATSIGN_CKR(CKR_USER_PIN_NOT_INITIALIZED)
    CATSIGN_CKR(CKR_USER_TYPE_INVALID)
    CATSIGN_CKR(CKR_BUFFER_TOO_SMALL)
    CATSIGN_CKR(CKR_CRYPTOKI_NOT_INITIALIZED)
    CATSIGN_CKR(CKR_CRYPTOKI_ALREADY_INITIALIZED)
#undef CATSIGN_CKR
    default: return nullptr;
  }
}

}  // namespace

bool TokenError::is_token_gone(CK_RV rv) noexcept {
  switch (rv) {
    case CKR_DEVICE_REMOVED:
    case CKR_DEVICE_ERROR:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_SESSION_CLOSED:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_USER_NOT_LOGGED_IN:
    // After a logout, or when a SoftHSM token folder vanishes mid-session, every handle the
    // process held is stale (docs/DESIGN.md "Facts").
    case CKR_OBJECT_HANDLE_INVALID:
    case CKR_KEY_HANDLE_INVALID:
    case CKR_CRYPTOKI_NOT_INITIALIZED:
      return true;
    default:
      return false;
  }
}

Errc TokenError::errc_for_rv(CK_RV rv) noexcept {
  if (is_token_gone(rv)) return Errc::token_gone;
  switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_LEN_RANGE:
      return Errc::wrong_pin;
    case CKR_PIN_LOCKED:
    case CKR_PIN_EXPIRED:
      return Errc::pin_policy;
    default:
      return Errc::token;
  }
}

std::string describe_rv(CK_RV rv) {
  char code[32];
  std::snprintf(code, sizeof code, "0x%lx", static_cast<unsigned long>(rv));
  const char* name = rv_name(rv);
  std::string out = name != nullptr ? std::string(name) + " (" + code + ")" : std::string("CK_RV ") + code;
  const char* text = p11_kit_strerror(rv);
  if (text != nullptr && *text != '\0') out += std::string(": ") + text;
  return out;
}

std::string token_failure(CK_RV rv, const std::string& doing, const std::string& token_label) {
  const std::string where = doing + " on token " + quote_label(token_label) + ": ";
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

void check_rv(CK_RV rv, const std::string& what) {
  if (rv != CKR_OK) throw TokenError(rv, what + ": " + describe_rv(rv));
}

// ---------------------------------------------------------------------------------------------

Pkcs11Module Pkcs11Module::load(const std::string& path) {
  Pkcs11Module m;
  m.path_ = path;
  dlerror();
  m.handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (m.handle_ == nullptr) {
    const char* why = dlerror();
    throw TokenError(CKR_GENERAL_ERROR,
                     "cannot load PKCS#11 module " + path + ": " + (why != nullptr ? why : "dlopen failed") +
                         "; check that [token] module names the module's .so file and that it is installed");
  }
  void* sym = dlsym(m.handle_, "C_GetFunctionList");
  if (sym == nullptr) {
    throw TokenError(CKR_GENERAL_ERROR, "PKCS#11 module " + path +
                                            " has no C_GetFunctionList: it is not a PKCS#11 module; "
                                            "check [token] module in the config");
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(sym);
  CK_FUNCTION_LIST_PTR list = nullptr;
  CK_RV rv = get_list(&list);
  if (rv != CKR_OK || list == nullptr) {
    throw TokenError(rv == CKR_OK ? CKR_GENERAL_ERROR : rv,
                     "PKCS#11 module " + path + ": C_GetFunctionList failed: " + describe_rv(rv));
  }
  m.fn_ = list;
  return m;
}

Pkcs11Module::~Pkcs11Module() { reset(); }

Pkcs11Module::Pkcs11Module(Pkcs11Module&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      fn_(std::exchange(other.fn_, nullptr)),
      initialized_(std::exchange(other.initialized_, false)),
      path_(std::move(other.path_)) {}

Pkcs11Module& Pkcs11Module::operator=(Pkcs11Module&& other) noexcept {
  if (this != &other) {
    reset();
    handle_ = std::exchange(other.handle_, nullptr);
    fn_ = std::exchange(other.fn_, nullptr);
    initialized_ = std::exchange(other.initialized_, false);
    path_ = std::move(other.path_);
  }
  return *this;
}

void Pkcs11Module::reset() noexcept {
  if (initialized_ && fn_ != nullptr) fn_->C_Finalize(nullptr);
  initialized_ = false;
  fn_ = nullptr;
#if defined(__SANITIZE_ADDRESS__)
  // A sanitizer build keeps the module mapped: LeakSanitizer reports at exit, and a module
  // unloaded by then leaves its frames nameless, so a leak inside the token's own code
  // (tests/lsan.supp) could not be told from one of ours.
#else
  if (handle_ != nullptr) dlclose(handle_);
#endif
  handle_ = nullptr;
}

void Pkcs11Module::initialize() {
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  check_rv(fn_->C_Initialize(&args), "PKCS#11 module " + path_ + ": C_Initialize");
  initialized_ = true;
}

CK_TOKEN_INFO Pkcs11Module::token_info(CK_SLOT_ID slot) const {
  CK_TOKEN_INFO info{};
  check_rv(fn_->C_GetTokenInfo(slot, &info), "C_GetTokenInfo");
  return info;
}

std::vector<CK_SLOT_ID> Pkcs11Module::slots_with_token_label(const std::string& label) const {
  CK_ULONG count = 0;
  check_rv(fn_->C_GetSlotList(CK_TRUE, nullptr, &count), "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(count);
  check_rv(fn_->C_GetSlotList(CK_TRUE, slots.data(), &count), "C_GetSlotList");
  slots.resize(count);
  std::vector<CK_SLOT_ID> out;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (fn_->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0) continue;
    std::string have(reinterpret_cast<const char*>(info.label),
                     p11_kit_space_strlen(info.label, sizeof info.label));
    if (have == label) out.push_back(slot);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

Pkcs11Session::Pkcs11Session(const Pkcs11Module& module, CK_SLOT_ID slot, bool read_write)
    : fn_(module.fn()), slot_(slot) {
  CK_FLAGS flags = CKF_SERIAL_SESSION | (read_write ? CKF_RW_SESSION : 0);
  check_rv(fn_->C_OpenSession(slot, flags, nullptr, nullptr, &session_), "C_OpenSession");
}

Pkcs11Session::~Pkcs11Session() {
  if (session_ != CK_INVALID_HANDLE) fn_->C_CloseSession(session_);
}

void Pkcs11Session::login(const std::string& pin) {
  CK_RV rv = fn_->C_Login(session_, CKU_USER,
                          reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin.data())),
                          static_cast<CK_ULONG>(pin.size()));
  if (rv != CKR_USER_ALREADY_LOGGED_IN) check_rv(rv, "C_Login");
}

std::vector<CK_OBJECT_HANDLE> Pkcs11Session::find(std::vector<CK_ATTRIBUTE> match) {
  check_rv(fn_->C_FindObjectsInit(session_, match.data(), static_cast<CK_ULONG>(match.size())),
           "C_FindObjectsInit");
  std::vector<CK_OBJECT_HANDLE> out;
  CK_RV rv = CKR_OK;
  for (;;) {
    CK_OBJECT_HANDLE batch[32];
    CK_ULONG got = 0;
    rv = fn_->C_FindObjects(session_, batch, 32, &got);
    if (rv != CKR_OK || got == 0) break;
    out.insert(out.end(), batch, batch + got);
  }
  fn_->C_FindObjectsFinal(session_);
  check_rv(rv, "C_FindObjects");
  return out;
}

std::optional<Bytes> Pkcs11Session::get_bytes(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE attr{type, nullptr, 0};
  CK_RV rv = fn_->C_GetAttributeValue(session_, object, &attr, 1);
  if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE) return std::nullopt;
  check_rv(rv, "C_GetAttributeValue");
  if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION) return std::nullopt;
  Bytes value(attr.ulValueLen);
  attr.pValue = value.data();
  check_rv(fn_->C_GetAttributeValue(session_, object, &attr, 1), "C_GetAttributeValue");
  value.resize(attr.ulValueLen);
  return value;
}

std::optional<bool> Pkcs11Session::get_bool(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  auto value = get_bytes(object, type);
  if (!value || value->size() != sizeof(CK_BBOOL)) return std::nullopt;
  return (*value)[0] != CK_FALSE;
}

std::optional<CK_ULONG> Pkcs11Session::get_ulong(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CK_ULONG value = 0;
  CK_ATTRIBUTE attr{type, &value, sizeof value};
  CK_RV rv = fn_->C_GetAttributeValue(session_, object, &attr, 1);
  if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE) return std::nullopt;
  check_rv(rv, "C_GetAttributeValue");
  if (attr.ulValueLen != sizeof value) return std::nullopt;
  return value;
}

}  // namespace catsign::token
