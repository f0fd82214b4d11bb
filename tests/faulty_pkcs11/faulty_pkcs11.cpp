// SPDX-License-Identifier: Apache-2.0
// libfaulty_pkcs11.so: a PKCS#11 module for tests that forwards every call to a real module
// (SoftHSM by default) and injects the faults a test asks for.
//
// Environment:
//   FAULTY_PKCS11_REAL     the real module (default /usr/lib/softhsm/libsofthsm2.so)
//   FAULTY_PKCS11_CONTROL  the control file, re-read on every call (missing: no faults)
//   FAULTY_PKCS11_STATS    where call counts are written (default: the control file + ".stats")
//   FAULTY_PKCS11_PAD_PIN  the PIN the "PIN pad" types when C_Login gets no PIN
//
// Control file, one directive a line ('#' starts a comment):
//   fail C_Sign 3 CKR_DEVICE_REMOVED    the 3rd call of C_Sign from now fails (once)
//   fail C_Sign always CKR_GENERAL_ERROR every call of C_Sign fails
//   hang C_Sign 5000                    every C_Sign sleeps 5000 ms first (ends early when the
//                                       line is removed from the control file)
//   flip_signature                      C_Sign's output has one bit flipped
//   pin_flags count_low|final_try|locked  ORed into C_GetTokenInfo's flags
//   protected_auth_path                 the token has a PIN pad: C_Login with no PIN logs in
//                                       with FAULTY_PKCS11_PAD_PIN
//   always_authenticate                 private keys report CKA_ALWAYS_AUTHENTICATE true
//   can_decrypt                         private keys report CKA_DECRYPT true (a key made by
//                                       another tool)
//   half_keypair CKR_FUNCTION_FAILED    C_GenerateKeyPair makes the pair, deletes the private
//                                       half and fails: a token that leaves half a key pair
// "From now" means: since the control file last changed (content, inode or mtime). A test
// rewrites the file (write a temporary file, rename it over) to start counting afresh.
//
// The stats file has one "C_Name count" line per function called since the module was
// loaded in this process. The module is linked with -z nodelete, so its counters survive the
// daemon unloading and reloading it between lock and unlock.
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct FailRule {
  std::string function;
  long nth = 0;  // 0: always
  CK_RV rv = CKR_GENERAL_ERROR;
};

struct Control {
  std::vector<FailRule> fails;
  std::map<std::string, long> hang_ms;
  bool flip_signature = false;
  CK_FLAGS pin_flags = 0;
  bool protected_auth_path = false;
  bool always_authenticate = false;
  bool can_decrypt = false;
  std::optional<CK_RV> half_keypair;
};

std::optional<CK_RV> rv_from_name(const std::string& name) {
  static const std::map<std::string, CK_RV> kNames = {
      {"CKR_DEVICE_REMOVED", CKR_DEVICE_REMOVED},
      {"CKR_TOKEN_NOT_PRESENT", CKR_TOKEN_NOT_PRESENT},
      {"CKR_USER_NOT_LOGGED_IN", CKR_USER_NOT_LOGGED_IN},
      {"CKR_SESSION_HANDLE_INVALID", CKR_SESSION_HANDLE_INVALID},
      {"CKR_GENERAL_ERROR", CKR_GENERAL_ERROR},
      {"CKR_DEVICE_ERROR", CKR_DEVICE_ERROR},
      {"CKR_FUNCTION_FAILED", CKR_FUNCTION_FAILED},
  };
  if (auto it = kNames.find(name); it != kNames.end()) return it->second;
  if (name.rfind("0x", 0) == 0) return static_cast<CK_RV>(std::strtoul(name.c_str(), nullptr, 16));
  return std::nullopt;
}

void complain(const std::string& line, const char* why) {
  std::fprintf(stderr, "faulty_pkcs11: ignoring control line \"%s\": %s\n", line.c_str(), why);
}

Control parse(const std::string& text) {
  Control c;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string verb;
    if (!(words >> verb)) continue;
    if (verb == "fail") {
      FailRule r;
      std::string nth, rv;
      if (!(words >> r.function >> nth >> rv)) {
        complain(line, "want: fail C_Name N|always CKR_NAME");
        continue;
      }
      r.nth = nth == "always" ? 0 : std::atol(nth.c_str());
      auto code = rv_from_name(rv);
      if (!code || (nth != "always" && r.nth <= 0)) {
        complain(line, "bad count or return value");
        continue;
      }
      r.rv = *code;
      c.fails.push_back(r);
    } else if (verb == "hang") {
      std::string function;
      long ms = 0;
      if (!(words >> function >> ms)) {
        complain(line, "want: hang C_Name MILLISECONDS");
        continue;
      }
      c.hang_ms[function] = ms;
    } else if (verb == "flip_signature") {
      c.flip_signature = true;
    } else if (verb == "pin_flags") {
      std::string flags;
      words >> flags;
      std::istringstream parts(flags);
      std::string f;
      while (std::getline(parts, f, '|')) {
        if (f == "count_low") c.pin_flags |= CKF_USER_PIN_COUNT_LOW;
        else if (f == "final_try") c.pin_flags |= CKF_USER_PIN_FINAL_TRY;
        else if (f == "locked") c.pin_flags |= CKF_USER_PIN_LOCKED;
        else complain(line, "unknown PIN flag");
      }
    } else if (verb == "protected_auth_path") {
      c.protected_auth_path = true;
    } else if (verb == "always_authenticate") {
      c.always_authenticate = true;
    } else if (verb == "can_decrypt") {
      c.can_decrypt = true;
    } else if (verb == "half_keypair") {
      std::string rv;
      words >> rv;
      auto code = rv_from_name(rv);
      if (!code) {
        complain(line, "want: half_keypair CKR_NAME");
        continue;
      }
      c.half_keypair = *code;
    } else {
      complain(line, "unknown directive");
    }
  }
  return c;
}

// --- state ---------------------------------------------------------------------------------------

std::mutex g_mutex;
std::string g_identity;                // of the control file when it was last read
std::map<std::string, long> g_since;   // calls per function since the control file changed
std::map<std::string, long> g_total;   // calls per function since the module was loaded

void* g_real_handle = nullptr;
CK_FUNCTION_LIST* g_real = nullptr;
CK_FUNCTION_LIST g_list;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// Reads the control file; `identity` changes whenever the file does.
Control read_control(std::string* identity) {
  std::string path = env_or("FAULTY_PKCS11_CONTROL", "");
  if (path.empty()) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (identity) *identity = "missing";
    return {};
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (identity) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    *identity = std::to_string(st.st_ino) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
                std::to_string(st.st_mtim.tv_nsec) + ":" + text;
  }
  return parse(text);
}

void write_stats() {
  std::string control = env_or("FAULTY_PKCS11_CONTROL", "");
  std::string path = env_or("FAULTY_PKCS11_STATS", control.empty() ? "" : control + ".stats");
  if (path.empty()) return;
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& [name, count] : g_total) out << name << ' ' << count << '\n';
  }
  std::rename(tmp.c_str(), path.c_str());
}

// Every wrapped call starts here: counts the call, then hangs and/or fails as configured.
// Returns the injected error, or CKR_OK to go on; `out` gets the control in force.
CK_RV enter(const char* function, Control* out = nullptr) {
  Control c;
  long ms = 0;
  CK_RV rv = CKR_OK;
  {
    std::lock_guard lock(g_mutex);
    std::string identity;
    c = read_control(&identity);
    if (identity != g_identity) {
      g_identity = identity;
      g_since.clear();
    }
    long n = ++g_since[function];
    ++g_total[function];
    write_stats();
    for (const FailRule& r : c.fails)
      if (r.function == function && (r.nth == 0 || r.nth == n)) rv = r.rv;
    if (auto it = c.hang_ms.find(function); it != c.hang_ms.end()) ms = it->second;
  }
  // Hang in slices, so a test that removes the hang line frees the caller at once.
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (ms > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard lock(g_mutex);
    if (read_control(nullptr).hang_ms.count(function) == 0) break;
  }
  if (out) *out = std::move(c);
  return rv;
}

// --- forwarding ----------------------------------------------------------------------------------

// Forward<&CK_FUNCTION_LIST::C_X>::call has C_X's signature: it counts, injects, then calls
// the real module's C_X.
template <auto Field, typename = decltype(Field)>
struct Forward;

template <auto Field, typename... A>
struct Forward<Field, CK_RV (*CK_FUNCTION_LIST::*)(A...)> {
  static inline const char* name = "";
  static CK_RV call(A... args) {
    if (CK_RV rv = enter(name); rv != CKR_OK) return rv;
    return (g_real->*Field)(args...);
  }
};

CK_RV faulty_sign(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_len, CK_BYTE_PTR sig,
                  CK_ULONG_PTR sig_len) {
  Control c;
  if (CK_RV injected = enter("C_Sign", &c); injected != CKR_OK) {
    // A failed C_Sign ends the operation on a real token: end it here too, so the session is
    // usable for the next C_SignInit.
    CK_ULONG len = 0;
    if (g_real->C_Sign(session, data, data_len, nullptr, &len) == CKR_OK) {
      std::vector<CK_BYTE> scratch(len);
      g_real->C_Sign(session, data, data_len, scratch.data(), &len);
    }
    return injected;
  }
  CK_RV rv = g_real->C_Sign(session, data, data_len, sig, sig_len);
  if (rv == CKR_OK && c.flip_signature && sig != nullptr && sig_len != nullptr && *sig_len > 0)
    sig[*sig_len / 2] ^= 0x10;
  return rv;
}

CK_RV faulty_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
  Control c;
  if (CK_RV injected = enter("C_GetTokenInfo", &c); injected != CKR_OK) return injected;
  CK_RV rv = g_real->C_GetTokenInfo(slot, info);
  if (rv == CKR_OK && info != nullptr) {
    info->flags |= c.pin_flags;
    if (c.protected_auth_path) info->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
  }
  return rv;
}

CK_RV faulty_login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len) {
  Control c;
  if (CK_RV injected = enter("C_Login", &c); injected != CKR_OK) return injected;
  if (pin == nullptr && c.protected_auth_path) {
    // The "PIN pad": the person types the PIN on the reader, not into the application.
    std::string pad = env_or("FAULTY_PKCS11_PAD_PIN", "");
    if (pad.empty()) return CKR_PIN_INCORRECT;
    std::vector<CK_UTF8CHAR> typed(pad.begin(), pad.end());
    CK_RV rv = g_real->C_Login(session, user, typed.data(), typed.size());
    std::fill(typed.begin(), typed.end(), 0);
    return rv;
  }
  return g_real->C_Login(session, user, pin, pin_len);
}

CK_RV faulty_get_attribute_value(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR attrs,
                                 CK_ULONG count) {
  Control c;
  if (CK_RV injected = enter("C_GetAttributeValue", &c); injected != CKR_OK) return injected;
  CK_RV rv = g_real->C_GetAttributeValue(session, object, attrs, count);
  if ((!c.always_authenticate && !c.can_decrypt) || attrs == nullptr) return rv;
  for (CK_ULONG i = 0; i < count; ++i) {
    if (!(attrs[i].type == CKA_ALWAYS_AUTHENTICATE && c.always_authenticate) &&
        !(attrs[i].type == CKA_DECRYPT && c.can_decrypt))
      continue;
    CK_OBJECT_CLASS cls = 0;
    CK_ATTRIBUTE q = {CKA_CLASS, &cls, sizeof cls};
    if (g_real->C_GetAttributeValue(session, object, &q, 1) != CKR_OK || cls != CKO_PRIVATE_KEY) continue;
    if (attrs[i].pValue != nullptr && attrs[i].ulValueLen >= sizeof(CK_BBOOL))
      *static_cast<CK_BBOOL*>(attrs[i].pValue) = CK_TRUE;
    attrs[i].ulValueLen = sizeof(CK_BBOOL);
  }
  return rv;
}

CK_RV faulty_generate_key_pair(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR pub_template,
                               CK_ULONG pub_count, CK_ATTRIBUTE_PTR priv_template, CK_ULONG priv_count,
                               CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv) {
  Control c;
  if (CK_RV injected = enter("C_GenerateKeyPair", &c); injected != CKR_OK) return injected;
  CK_RV rv = g_real->C_GenerateKeyPair(session, mech, pub_template, pub_count, priv_template, priv_count, pub, priv);
  if (rv != CKR_OK || !c.half_keypair) return rv;
  g_real->C_DestroyObject(session, *priv);
  *pub = CK_INVALID_HANDLE;
  *priv = CK_INVALID_HANDLE;
  return *c.half_keypair;
}

bool load_real() {
  if (g_real != nullptr) return true;
  std::string path = env_or("FAULTY_PKCS11_REAL", "/usr/lib/softhsm/libsofthsm2.so");
  g_real_handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (g_real_handle == nullptr) {
    std::fprintf(stderr, "faulty_pkcs11: cannot load %s: %s\n", path.c_str(), ::dlerror());
    return false;
  }
  auto get = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(g_real_handle, "C_GetFunctionList"));
  if (get == nullptr || get(&g_real) != CKR_OK || g_real == nullptr) {
    std::fprintf(stderr, "faulty_pkcs11: %s has no usable C_GetFunctionList\n", path.c_str());
    g_real = nullptr;
    return false;
  }
  return true;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
  if (list == nullptr) return CKR_ARGUMENTS_BAD;
  std::lock_guard lock(g_mutex);
  if (!load_real()) return CKR_GENERAL_ERROR;
  g_list.version = g_real->version;
#define FORWARD(f)                              \
  Forward<&CK_FUNCTION_LIST::f>::name = #f;     \
  g_list.f = &Forward<&CK_FUNCTION_LIST::f>::call;
  FORWARD(C_Initialize) FORWARD(C_Finalize) FORWARD(C_GetInfo) FORWARD(C_GetSlotList) FORWARD(C_GetSlotInfo)
  FORWARD(C_GetTokenInfo) FORWARD(C_GetMechanismList) FORWARD(C_GetMechanismInfo) FORWARD(C_InitToken)
  FORWARD(C_InitPIN) FORWARD(C_SetPIN) FORWARD(C_OpenSession) FORWARD(C_CloseSession)
  FORWARD(C_CloseAllSessions) FORWARD(C_GetSessionInfo) FORWARD(C_GetOperationState)
  FORWARD(C_SetOperationState) FORWARD(C_Login) FORWARD(C_Logout) FORWARD(C_CreateObject)
  FORWARD(C_CopyObject) FORWARD(C_DestroyObject) FORWARD(C_GetObjectSize) FORWARD(C_GetAttributeValue)
  FORWARD(C_SetAttributeValue) FORWARD(C_FindObjectsInit) FORWARD(C_FindObjects) FORWARD(C_FindObjectsFinal)
  FORWARD(C_EncryptInit) FORWARD(C_Encrypt) FORWARD(C_EncryptUpdate) FORWARD(C_EncryptFinal)
  FORWARD(C_DecryptInit) FORWARD(C_Decrypt) FORWARD(C_DecryptUpdate) FORWARD(C_DecryptFinal)
  FORWARD(C_DigestInit) FORWARD(C_Digest) FORWARD(C_DigestUpdate) FORWARD(C_DigestKey) FORWARD(C_DigestFinal)
  FORWARD(C_SignInit) FORWARD(C_Sign) FORWARD(C_SignUpdate) FORWARD(C_SignFinal) FORWARD(C_SignRecoverInit)
  FORWARD(C_SignRecover) FORWARD(C_VerifyInit) FORWARD(C_Verify) FORWARD(C_VerifyUpdate)
  FORWARD(C_VerifyFinal) FORWARD(C_VerifyRecoverInit) FORWARD(C_VerifyRecover)
  FORWARD(C_DigestEncryptUpdate) FORWARD(C_DecryptDigestUpdate) FORWARD(C_SignEncryptUpdate)
  FORWARD(C_DecryptVerifyUpdate) FORWARD(C_GenerateKey) FORWARD(C_GenerateKeyPair) FORWARD(C_WrapKey)
  FORWARD(C_UnwrapKey) FORWARD(C_DeriveKey) FORWARD(C_SeedRandom) FORWARD(C_GenerateRandom)
  FORWARD(C_GetFunctionStatus) FORWARD(C_CancelFunction) FORWARD(C_WaitForSlotEvent)
#undef FORWARD
  g_list.C_GetFunctionList = &C_GetFunctionList;
  // The faults with more to them than failing or hanging.
  g_list.C_Sign = &faulty_sign;
  g_list.C_GetTokenInfo = &faulty_get_token_info;
  g_list.C_Login = &faulty_login;
  g_list.C_GetAttributeValue = &faulty_get_attribute_value;
  g_list.C_GenerateKeyPair = &faulty_generate_key_pair;
  *list = &g_list;
  return CKR_OK;
}
