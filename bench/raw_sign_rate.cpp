// SPDX-License-Identifier: Apache-2.0
// bench/raw_sign_rate: the token's own signing rate, the ceiling catsignd is measured against
// (scripts/bench). It uses none of catsign's code, so a bottleneck in catsign can't hide in
// its own reference.
//
//   raw_sign_rate pkcs11 MODULE TOKEN_LABEL KEY_LABEL SECONDS SESSIONS [START_AT_MS]
//     dlopen + C_GetFunctionList + C_Initialize, one C_Login, then SESSIONS sessions on as
//     many threads, each calling C_SignInit + C_Sign (CKM_RSA_PKCS over a SHA-256
//     DigestInfo, RFC 8017 §9.2) in a loop.
//   raw_sign_rate libp11 MODULE TOKEN_LABEL KEY_LABEL SECONDS THREADS [START_AT_MS]
//     libp11 + OpenSSL only: one PKCS11_CTX, one EVP_PKEY, THREADS threads calling
//     EVP_PKEY_sign (libp11 takes a session from its pool for each).
//
// The PIN comes on fd 3. START_AT_MS (CLOCK_REALTIME, ms since the epoch) makes several
// processes start signing at the same moment after each has logged in, so their rates can be
// summed. Prints one line:
//   mode=pkcs11 threads=1 signatures=1234 seconds=5.00 rate=246.8
#include <dlfcn.h>
#include <libp11.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <p11-kit/pkcs11.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) { throw std::runtime_error(what); }

void check(CK_RV rv, const char* what) {
  if (rv != CKR_OK) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(rv));
    die(std::string(what) + " failed: CK_RV " + buf);
  }
}

std::string read_pin() {
  std::string pin;
  char c;
  while (::read(3, &c, 1) == 1 && c != '\n') pin.push_back(c);
  if (pin.empty()) die("no PIN on fd 3");
  return pin;
}

std::string trimmed(const unsigned char* s, std::size_t n) {
  std::string out(reinterpret_cast<const char*>(s), n);
  while (!out.empty() && (out.back() == ' ' || out.back() == '\0')) out.pop_back();
  return out;
}

// Sleeps until START_AT_MS on the wall clock, when given.
void wait_for_start(long long start_at_ms) {
  if (start_at_ms <= 0) return;
  auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(start_at_ms));
  std::this_thread::sleep_until(at);
}

// Runs one worker per thread (make_worker(t)) for `seconds`; prints the line.
template <typename PerThread>
void run(const char* mode, int threads, double seconds, PerThread make_worker) {
  std::atomic<long> count{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::string failure;
  std::vector<std::thread> pool;
  std::vector<decltype(make_worker(0))> workers;
  for (int t = 0; t < threads; ++t) workers.push_back(make_worker(t));
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      try {
        while (!stop.load(std::memory_order_relaxed)) {
          workers[static_cast<std::size_t>(t)]();
          count.fetch_add(1, std::memory_order_relaxed);
        }
      } catch (const std::exception& e) {
        if (!failed.exchange(true)) failure = e.what();
        stop.store(true);
      }
    });
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (!stop.load() && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop.store(true);
  for (std::thread& t : pool) t.join();
  if (failed.load()) die(failure);
  double took = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("mode=%s threads=%d signatures=%ld seconds=%.2f rate=%.1f\n", mode, threads, count.load(), took,
              static_cast<double>(count.load()) / took);
  std::fflush(stdout);
}

// SHA-256 DigestInfo prefix (RFC 8017 §9.2 note 1), then 32 digest bytes.
const unsigned char kSha256Prefix[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                       0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

int raw_pkcs11(const std::string& module, const std::string& token_label, const std::string& key_label,
               double seconds, int sessions, long long start_at) {
  void* lib = ::dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) die(std::string("dlopen: ") + ::dlerror());
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(lib, "C_GetFunctionList"));
  if (get_list == nullptr) die("no C_GetFunctionList in " + module);
  CK_FUNCTION_LIST* fn = nullptr;
  check(get_list(&fn), "C_GetFunctionList");
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  CK_SLOT_ID slot = 0;
  bool found = false;
  // SoftHSM rewrites its token file at C_Login: a second process initialising at that moment
  // may not see the token yet, so look again a few times.
  for (int attempt = 0; attempt < 20 && !found; ++attempt) {
    if (attempt > 0) {
      fn->C_Finalize(nullptr);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    check(fn->C_Initialize(&args), "C_Initialize");
    CK_ULONG nslots = 0;
    check(fn->C_GetSlotList(CK_TRUE, nullptr, &nslots), "C_GetSlotList");
    std::vector<CK_SLOT_ID> slots(nslots);
    check(fn->C_GetSlotList(CK_TRUE, slots.data(), &nslots), "C_GetSlotList");
    for (CK_ULONG i = 0; i < nslots && !found; ++i) {
      CK_TOKEN_INFO info{};
      if (fn->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
      if (trimmed(info.label, sizeof info.label) == token_label) {
        slot = slots[i];
        found = true;
      }
    }
  }
  if (!found) die("no token labelled " + token_label);

  std::vector<CK_SESSION_HANDLE> handles(static_cast<std::size_t>(sessions));
  for (CK_SESSION_HANDLE& h : handles)
    check(fn->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &h), "C_OpenSession");
  {
    std::string pin = read_pin();
    check(fn->C_Login(handles[0], CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(pin.data()), pin.size()), "C_Login");
    std::memset(pin.data(), 0, pin.size());
  }
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  std::string label = key_label;
  CK_ATTRIBUTE match[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, label.data(), label.size()}};
  check(fn->C_FindObjectsInit(handles[0], match, 2), "C_FindObjectsInit");
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_ULONG nkeys = 0;
  check(fn->C_FindObjects(handles[0], &key, 1, &nkeys), "C_FindObjects");
  fn->C_FindObjectsFinal(handles[0]);
  if (nkeys != 1) die("no private key labelled " + key_label);

  auto make = [&](int t) {
    return [fn, key, session = handles[static_cast<std::size_t>(t)], t]() {
      unsigned char info[sizeof kSha256Prefix + 32];
      std::memcpy(info, kSha256Prefix, sizeof kSha256Prefix);
      std::memset(info + sizeof kSha256Prefix, 0x5a + t, 32);
      unsigned char sig[1024];
      CK_ULONG len = sizeof sig;
      CK_MECHANISM mech{CKM_RSA_PKCS, nullptr, 0};
      check(fn->C_SignInit(session, &mech, key), "C_SignInit");
      check(fn->C_Sign(session, info, sizeof info, sig, &len), "C_Sign");
    };
  };
  // One signature before the clock starts: the first one pays for lazy setup in the module.
  make(0)();
  wait_for_start(start_at);
  run("pkcs11", sessions, seconds, make);
  for (CK_SESSION_HANDLE h : handles) fn->C_CloseSession(h);
  fn->C_Finalize(nullptr);
  return 0;
}

int libp11(const std::string& module, const std::string& token_label, const std::string& key_label, double seconds,
           int threads, long long start_at) {
  PKCS11_CTX* ctx = PKCS11_CTX_new();
  if (ctx == nullptr || PKCS11_CTX_load(ctx, module.c_str()) != 0) die("PKCS11_CTX_load " + module + " failed");
  PKCS11_SLOT* slots = nullptr;
  unsigned int nslots = 0;
  if (PKCS11_enumerate_slots(ctx, &slots, &nslots) != 0) die("PKCS11_enumerate_slots failed");
  PKCS11_SLOT* slot = nullptr;
  for (unsigned int i = 0; i < nslots; ++i)
    if (slots[i].token != nullptr && slots[i].token->initialized && token_label == slots[i].token->label)
      slot = &slots[i];
  if (slot == nullptr) die("no token labelled " + token_label);
  {
    std::string pin = read_pin();
    if (PKCS11_login(slot, 0, pin.c_str()) != 0) die("PKCS11_login failed");
    std::memset(pin.data(), 0, pin.size());
  }
  PKCS11_KEY* keys = nullptr;
  unsigned int nkeys = 0;
  if (PKCS11_enumerate_keys(slot->token, &keys, &nkeys) != 0) die("PKCS11_enumerate_keys failed");
  PKCS11_KEY* chosen = nullptr;
  for (unsigned int i = 0; i < nkeys; ++i)
    if (keys[i].isPrivate && keys[i].label != nullptr && key_label == keys[i].label) chosen = &keys[i];
  if (chosen == nullptr) die("no private key labelled " + key_label);
  EVP_PKEY* pkey = PKCS11_get_private_key(chosen);
  if (pkey == nullptr) die("PKCS11_get_private_key failed");

  auto make = [&](int t) {
    return [pkey, t]() {
      unsigned char digest[32];
      std::memset(digest, 0x5a + t, sizeof digest);
      EVP_PKEY_CTX* c = EVP_PKEY_CTX_new(pkey, nullptr);
      unsigned char sig[1024];
      std::size_t len = sizeof sig;
      if (c == nullptr || EVP_PKEY_sign_init(c) <= 0 || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0 ||
          EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) <= 0 ||
          EVP_PKEY_sign(c, sig, &len, digest, sizeof digest) <= 0) {
        EVP_PKEY_CTX_free(c);
        die("EVP_PKEY_sign through libp11 failed");
      }
      EVP_PKEY_CTX_free(c);
    };
  };
  make(0)();
  wait_for_start(start_at);
  run("libp11", threads, seconds, make);
  EVP_PKEY_free(pkey);
  PKCS11_logout(slot);
  PKCS11_release_all_slots(ctx, slots, nslots);
  PKCS11_CTX_unload(ctx);
  PKCS11_CTX_free(ctx);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7 || argc > 8) {
    std::fprintf(stderr,
                 "usage: raw_sign_rate pkcs11|libp11 MODULE TOKEN_LABEL KEY_LABEL SECONDS THREADS [START_AT_MS]"
                 " (PIN on fd 3)\n");
    return 2;
  }
  try {
    const std::string mode = argv[1];
    const double seconds = std::atof(argv[5]);
    const int threads = std::atoi(argv[6]);
    const long long start_at = argc == 8 ? std::atoll(argv[7]) : 0;
    if (seconds <= 0 || threads < 1) die("SECONDS and THREADS must be positive");
    if (mode == "pkcs11") return raw_pkcs11(argv[2], argv[3], argv[4], seconds, threads, start_at);
    if (mode == "libp11") return libp11(argv[2], argv[3], argv[4], seconds, threads, start_at);
    die("mode must be pkcs11 or libp11, not " + mode);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "raw_sign_rate: %s\n", e.what());
    return 1;
  }
}
