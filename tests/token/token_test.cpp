// SPDX-License-Identifier: Apache-2.0
// Integration tests on throwaway SoftHSM tokens: nothing here is mocked.
#include "catsign/token/token.hpp"

#include <botan/bigint.h>
#include <botan/hash.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "catsign/error.hpp"
#include "catsign/token/pkcs11_module.hpp"
#include "softhsm_fixture.hpp"

namespace catsign::token {
namespace {

using catsign::testing::SoftHsmToken;

SecureString secure(std::string_view s) {
  SecureString out;
  for (char c : s) out.push_back(c);
  return out;
}

Bytes digest_of(HashAlgorithm h, std::string_view message) {
  auto hash = Botan::HashFunction::create_or_throw(botan_hash_name(h));
  hash->update(reinterpret_cast<const std::uint8_t*>(message.data()), message.size());
  auto d = hash->final();
  return Bytes(d.begin(), d.end());
}

// An independent check: Botan, from n and e alone.
bool botan_verifies(const PublicKeyMaterial& material, HashAlgorithm h, const Bytes& digest, const Bytes& sig) {
  const RsaPublicKey& pub = material.rsa;
  Botan::RSA_PublicKey key(Botan::BigInt(pub.n.data(), pub.n.size()), Botan::BigInt(pub.e.data(), pub.e.size()));
  Botan::PK_Verifier verifier(key, std::string("EMSA3(Raw,") + botan_hash_name(h) + ")");
  return verifier.verify_message(digest.data(), digest.size(), sig.data(), sig.size());
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Reads a private key's attributes back through the raw module, after the Token is gone, so
// nothing of catsign's own login or key lookup is involved.
struct RawKeyAttributes {
  std::optional<bool> sensitive, extractable, never_extractable, always_sensitive, sign, decrypt, unwrap, derive,
      is_private, token;
  std::optional<Bytes> id;
};

RawKeyAttributes read_private_key_attributes(const SoftHsmToken& hsm, const std::string& label) {
  Pkcs11Module m = Pkcs11Module::load(hsm.module_path());
  m.initialize();
  auto slots = m.slots_with_token_label(hsm.label());
  if (slots.size() != 1) throw std::runtime_error("token not found by label");
  Pkcs11Session s(m, slots.front(), false);
  s.login(hsm.user_pin());
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  std::string l = label;
  auto found = s.find({{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, l.data(), l.size()}});
  if (found.size() != 1) throw std::runtime_error("expected exactly one private key " + label);
  CK_OBJECT_HANDLE k = found.front();
  RawKeyAttributes a;
  a.sensitive = s.get_bool(k, CKA_SENSITIVE);
  a.extractable = s.get_bool(k, CKA_EXTRACTABLE);
  a.never_extractable = s.get_bool(k, CKA_NEVER_EXTRACTABLE);
  a.always_sensitive = s.get_bool(k, CKA_ALWAYS_SENSITIVE);
  a.sign = s.get_bool(k, CKA_SIGN);
  a.decrypt = s.get_bool(k, CKA_DECRYPT);
  a.unwrap = s.get_bool(k, CKA_UNWRAP);
  a.derive = s.get_bool(k, CKA_DERIVE);
  a.is_private = s.get_bool(k, CKA_PRIVATE);
  a.token = s.get_bool(k, CKA_TOKEN);
  a.id = s.get_bytes(k, CKA_ID);
  return a;
}

TEST(SoftHsmFixture, MakesAThrowawayToken) {
  std::filesystem::path dir;
  {
    SoftHsmToken hsm;
    dir = hsm.dir();
    EXPECT_TRUE(std::filesystem::is_regular_file(hsm.conf_path()));
    EXPECT_TRUE(std::filesystem::is_directory(hsm.token_dir()));
    EXPECT_STREQ(std::getenv("SOFTHSM2_CONF"), hsm.conf_path().c_str());
    EXPECT_EQ(hsm.key_uri("catalog"), "pkcs11:token=catsign;object=catalog");
    EXPECT_EQ(catsign::testing::run_command({"softhsm2-util", "--show-slots"}), 0);
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(SoftHsmFixture, ScriptRefusesDuplicateLabel) {
  SoftHsmToken hsm;
  EXPECT_NE(catsign::testing::run_command({"bash", SoftHsmToken::make_token_script(), hsm.dir().string(), "catsign"}), 0);
}

TEST(Token, OpensByLabelAndReportsPinState) {
  SoftHsmToken hsm;
  hsm.add_token("second");  // renumbers the slots: selection must still be by label
  std::string serial;
  {
    Token t = Token::open(hsm.module_path(), hsm.key_uri("k"));
    EXPECT_EQ(t.identity().label, "catsign");
    EXPECT_EQ(t.identity().manufacturer, "SoftHSM project");
    EXPECT_FALSE(t.identity().serial.empty());
    serial = t.identity().serial;
    EXPECT_FALSE(t.logged_in());
    PinState s = t.pin_state();
    EXPECT_FALSE(s.locked);
    EXPECT_FALSE(s.final_try);
    EXPECT_FALSE(s.count_low);
    EXPECT_FALSE(s.protected_path);
  }
  EXPECT_EQ(Token::open(hsm.module_path(), "pkcs11:token=second").identity().label, "second");
  // By serial alone, too.
  EXPECT_EQ(Token::open(hsm.module_path(), "pkcs11:serial=" + serial).identity().label, "catsign");
}

// Destroying a Token finalises the module: a second live Token on it would break the first.
TEST(Token, OneTokenPerModulePerProcess) {
  SoftHsmToken hsm;
  Token a = Token::open(hsm.module_path(), hsm.key_uri("k"));
  a.login(hsm.user_pin_secure());
  a.generate_key("k", 2048);
  try {
    Token::open(hsm.module_path(), hsm.key_uri("k"));
    FAIL() << "opened the same module twice";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::internal);
    EXPECT_TRUE(contains(e.what(), "already open in this process")) << e.what();
  }
  // The same library under another name (a symlink) is the same module.
  std::filesystem::path link = hsm.dir() / "libalias.so";
  std::filesystem::create_symlink(hsm.module_path(), link);
  EXPECT_THROW(Token::open(link.string(), hsm.key_uri("k")), Error);
  // The first Token is untouched by the refused attempts.
  Bytes digest = digest_of(HashAlgorithm::sha256, "still here");
  EXPECT_TRUE(botan_verifies(a.signer().public_key(), HashAlgorithm::sha256, digest,
                             a.signer().sign_digest(HashAlgorithm::sha256, digest)));
}

TEST(Token, TokenNotFoundListsTokensSeen) {
  SoftHsmToken hsm;
  hsm.add_token("second");
  try {
    Token::open(hsm.module_path(), "pkcs11:token=nosuch;object=k");
    FAIL() << "opened a token that does not exist";
  } catch (const TokenError& e) {
    std::string m = e.what();
    EXPECT_TRUE(contains(m, "no token matching pkcs11:token=nosuch;object=k")) << m;
    EXPECT_TRUE(contains(m, "label \"catsign\"")) << m;
    EXPECT_TRUE(contains(m, "label \"second\"")) << m;
    EXPECT_TRUE(contains(m, "SoftHSM project")) << m;
    EXPECT_TRUE(e.token_gone());
    EXPECT_FALSE(contains(m, "\n"));
  }
}

TEST(Token, AmbiguousTokenIsRefused) {
  SoftHsmToken hsm;
  hsm.add_token("second");
  try {
    Token::open(hsm.module_path(), "pkcs11:object=k");
    FAIL() << "picked one of two tokens";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::usage);
    EXPECT_TRUE(contains(e.what(), "more than one token")) << e.what();
  }
  // With one token, a URI without token attributes picks it.
  SoftHsmToken single("only");
  EXPECT_EQ(Token::open(single.module_path(), "pkcs11:object=k").identity().label, "only");
}

TEST(Token, ModuleThatFailsToLoad) {
  SoftHsmToken hsm;
  try {
    Token::open("/nonexistent/libnothing.so", hsm.key_uri("k"));
    FAIL() << "loaded a missing module";
  } catch (const TokenError& e) {
    std::string m = e.what();
    EXPECT_TRUE(contains(m, "cannot load PKCS#11 module /nonexistent/libnothing.so")) << m;
    EXPECT_TRUE(contains(m, "[token] module")) << m;
  }
  // A shared library that is not a PKCS#11 module.
  std::string not_a_module = "/lib/x86_64-linux-gnu/libz.so.1";
  ASSERT_TRUE(std::filesystem::exists(not_a_module));
  try {
    Token::open(not_a_module, hsm.key_uri("k"));
    FAIL() << "loaded libz as a PKCS#11 module";
  } catch (const TokenError& e) {
    EXPECT_TRUE(contains(e.what(), "not a PKCS#11 module")) << e.what();
  }
}

TEST(Token, ModuleThatFailsToInitialise) {
  SoftHsmToken hsm;
  setenv("SOFTHSM2_CONF", (hsm.dir() / "missing.conf").c_str(), 1);
  try {
    Token::open(hsm.module_path(), hsm.key_uri("k"));
    FAIL() << "initialised SoftHSM without a config";
  } catch (const TokenError& e) {
    EXPECT_TRUE(contains(e.what(), "did not initialise")) << e.what();
    EXPECT_TRUE(contains(e.what(), "SOFTHSM2_CONF")) << e.what();
  }
  setenv("SOFTHSM2_CONF", hsm.conf_path().c_str(), 1);
}

TEST(Token, KeygenSignVerifySha256AndSha512) {
  SoftHsmToken hsm;
  Token t = Token::open(hsm.module_path(), hsm.key_uri("catalog-2026"));
  t.login(hsm.user_pin_secure());
  EXPECT_TRUE(t.logged_in());
  EXPECT_FALSE(t.has_private_key("catalog-2026"));
  PublicKeyMaterial pub = t.generate_key("catalog-2026", 2048);
  EXPECT_EQ(pub.rsa.n.size(), 256u);
  EXPECT_NE(pub.rsa.n.front(), 0);
  EXPECT_EQ(pub.rsa.e, (Bytes{0x01, 0x00, 0x01}));
  EXPECT_TRUE(t.has_private_key("catalog-2026"));

  Signer& signer = t.signer();
  EXPECT_EQ(signer.public_key(), pub);
  for (HashAlgorithm h : {HashAlgorithm::sha256, HashAlgorithm::sha512}) {
    Bytes digest = digest_of(h, "unstable/i386/5.10 catalog");
    Bytes sig = signer.sign_digest(h, digest);
    EXPECT_EQ(sig.size(), 256u);
    EXPECT_TRUE(botan_verifies(pub, h, digest, sig)) << hash_name(h);
    // A forged case: another digest must not verify with this signature.
    Bytes other = digest_of(h, "dublin/sparc/5.9 catalog");
    EXPECT_FALSE(botan_verifies(pub, h, other, sig));
  }
  // The wrong digest length is a caller bug, caught before the token sees it.
  EXPECT_THROW(signer.sign_digest(HashAlgorithm::sha512, digest_of(HashAlgorithm::sha256, "x")), Error);
}

TEST(Token, KeygenTemplateReadBackThroughRawPkcs11) {
  SoftHsmToken hsm;
  {
    Token t = Token::open(hsm.module_path(), hsm.key_uri());
    t.login(hsm.user_pin_secure());
    t.generate_key("packages-2026", 3072);
  }
  RawKeyAttributes a = read_private_key_attributes(hsm, "packages-2026");
  EXPECT_EQ(a.sensitive, true);
  EXPECT_EQ(a.extractable, false);
  EXPECT_EQ(a.never_extractable, true);
  EXPECT_EQ(a.always_sensitive, true);
  EXPECT_EQ(a.sign, true);
  EXPECT_EQ(a.decrypt, false);
  EXPECT_EQ(a.unwrap, false);
  EXPECT_EQ(a.derive, false);
  EXPECT_EQ(a.is_private, true);
  EXPECT_EQ(a.token, true);
  ASSERT_TRUE(a.id);
  EXPECT_EQ(a.id->size(), 16u);

  // The key survives the session and signs after a fresh open, found by label and by id.
  std::string id_uri = hsm.key_uri() + ";id=";
  for (std::uint8_t b : *a.id) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%%%02x", b);
    id_uri += buf;
  }
  for (const std::string& uri : {hsm.key_uri("packages-2026"), id_uri}) {
    Token t = Token::open(hsm.module_path(), uri);
    t.login(hsm.user_pin_secure());
    Bytes digest = digest_of(HashAlgorithm::sha256, "x");
    Signer& s = t.signer();
    EXPECT_EQ(s.public_key().rsa.n.size(), 384u);
    EXPECT_TRUE(botan_verifies(s.public_key(), HashAlgorithm::sha256, digest, s.sign_digest(HashAlgorithm::sha256, digest)));
  }
}

TEST(Token, KeygenRefusesExistingLabelAndBadSizes) {
  SoftHsmToken hsm;
  Token t = Token::open(hsm.module_path(), hsm.key_uri("k"));
  t.login(hsm.user_pin_secure());
  PublicKeyMaterial first = t.generate_key("k", 2048);
  try {
    t.generate_key("k", 2048);
    FAIL() << "overwrote or duplicated key k";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::refused);
    EXPECT_TRUE(contains(e.what(), "already has an object labelled \"k\"")) << e.what();
  }
  EXPECT_EQ(t.private_keys().size(), 1u);
  EXPECT_EQ(t.signer().public_key(), first);
  for (unsigned bits : {0u, 1024u, 2047u, 8192u}) {
    try {
      t.generate_key("other", bits);
      FAIL() << "generated a " << bits << "-bit key";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::usage);
    }
  }
}

TEST(Token, KeygenNeedsLogin) {
  SoftHsmToken hsm;
  Token t = Token::open(hsm.module_path(), hsm.key_uri("k"));
  try {
    t.generate_key("k", 2048);
    FAIL();
  } catch (const TokenError& e) {
    EXPECT_EQ(e.rv(), CKR_USER_NOT_LOGGED_IN);
  }
  EXPECT_THROW(t.signer(), TokenError);
}

TEST(Token, WrongPinIsClearAndTokenStillWorks) {
  SoftHsmToken hsm;
  {
    Token t = Token::open(hsm.module_path(), hsm.key_uri("k"));
    t.login(hsm.user_pin_secure());
    t.generate_key("k", 2048);
  }
  Token t = Token::open(hsm.module_path(), hsm.key_uri("k"));
  try {
    t.login(secure("000000"));
    FAIL() << "logged in with a wrong PIN";
  } catch (const TokenError& e) {
    EXPECT_EQ(e.rv(), CKR_PIN_INCORRECT);
    EXPECT_FALSE(e.token_gone());
    EXPECT_TRUE(contains(e.what(), "wrong PIN for token \"catsign\"")) << e.what();
    EXPECT_TRUE(contains(e.what(), "CKF_USER_PIN_COUNT_LOW")) << e.what();
    EXPECT_FALSE(contains(e.what(), "\n"));
  }
  EXPECT_FALSE(t.logged_in());
  // SoftHSM 2.6 sets CKF_USER_PIN_COUNT_LOW after a wrong PIN and clears it at the next good
  // login, but keeps no real counter (never FINAL_TRY, never LOCKED). So: one wrong PIN leaves
  // the token usable, with COUNT_LOW up, and the right PIN works on the same Token.
  PinState s = t.pin_state();
  EXPECT_TRUE(s.count_low);
  EXPECT_FALSE(s.locked);
  EXPECT_FALSE(s.final_try);
  t.login(hsm.user_pin_secure());
  EXPECT_TRUE(t.logged_in());
  EXPECT_FALSE(t.pin_state().count_low);
  Bytes digest = digest_of(HashAlgorithm::sha256, "after a wrong PIN");
  EXPECT_TRUE(botan_verifies(t.signer().public_key(), HashAlgorithm::sha256, digest,
                             t.signer().sign_digest(HashAlgorithm::sha256, digest)));
}

// SoftHSM never reaches FINAL_TRY or LOCKED, so the pre-login check is tested on its own.
TEST(Token, LoginBlockerRefusesLockedAndFinalTry) {
  PinState fine;
  EXPECT_FALSE(login_blocker(fine, "catsign", "/m.so"));
  PinState low;
  low.count_low = true;
  EXPECT_FALSE(login_blocker(low, "catsign", "/m.so"));

  PinState last;
  last.count_low = true;
  last.final_try = true;
  auto e = login_blocker(last, "catsign", "/m.so");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), Errc::pin_policy);
  EXPECT_TRUE(contains(e->what(), "one PIN try left: refusing to spend it automatically")) << e->what();

  PinState locked;
  locked.locked = true;
  e = login_blocker(locked, "catsign", "/m.so");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), Errc::pin_policy);
  EXPECT_TRUE(contains(e->what(), "is locked: unblock it with the SO PIN")) << e->what();
}

TEST(Token, SecondLoginIsRefusedNotSilentlyAccepted) {
  SoftHsmToken hsm;
  Token t = Token::open(hsm.module_path(), hsm.key_uri("k"));
  t.login(hsm.user_pin_secure());
  try {
    t.login(secure("wrong"));
    FAIL() << "second login accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::usage);
    EXPECT_TRUE(contains(e.what(), "already logged in")) << e.what();
  }
}

TEST(Token, EmptyPinRefusedWithoutPinPad) {
  SoftHsmToken hsm;
  Token t = Token::open(hsm.module_path(), hsm.key_uri("k"));
  try {
    t.login(SecureString{});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::usage);
    EXPECT_TRUE(contains(e.what(), "empty PIN")) << e.what();
  }
}

TEST(Token, KeyNotFoundListsKeys) {
  SoftHsmToken hsm;
  Token t = Token::open(hsm.module_path(), hsm.key_uri("missing"));
  t.login(hsm.user_pin_secure());
  t.generate_key("present", 2048);
  try {
    t.signer();
    FAIL() << "found a key that does not exist";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.code(), Errc::usage);
    EXPECT_TRUE(contains(m, "no private key object=missing on token \"catsign\"")) << m;
    EXPECT_TRUE(contains(m, "pkcs11:token=catsign;object=missing")) << m;
    EXPECT_TRUE(contains(m, "\"present\"")) << m;
  }
}

TEST(Token, UriWithoutObjectHasNoSigner) {
  SoftHsmToken hsm;
  Token t = Token::open(hsm.module_path(), hsm.key_uri());
  t.login(hsm.user_pin_secure());
  try {
    t.signer();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::usage);
    EXPECT_TRUE(contains(e.what(), "names no key")) << e.what();
  }
}

TEST(Token, AlwaysAuthenticateKeyIsRefused) {
  SoftHsmToken hsm;
  hsm.generate_key_with_pkcs11_tool("forcesig", "0a0b", "--always-auth");
  hsm.generate_key_with_pkcs11_tool("normal", "0c0d");
  {
    Token t = Token::open(hsm.module_path(), hsm.key_uri("forcesig"));
    t.login(hsm.user_pin_secure());
    try {
      t.signer();
      FAIL() << "accepted a CKA_ALWAYS_AUTHENTICATE key";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::refused);
      EXPECT_TRUE(contains(e.what(),
                           "key \"forcesig\" needs the PIN for every signature (CKA_ALWAYS_AUTHENTICATE): "
                           "turn off forcesig on an OpenPGP card, or use PIV slot 9a"))
          << e.what();
    }
  }
  // A key made by another tool is found by label and id and signs.
  Token n = Token::open(hsm.module_path(), hsm.key_uri("normal") + ";id=%0c%0d");
  n.login(hsm.user_pin_secure());
  Bytes digest = digest_of(HashAlgorithm::sha256, "y");
  EXPECT_TRUE(botan_verifies(n.signer().public_key(), HashAlgorithm::sha256, digest,
                             n.signer().sign_digest(HashAlgorithm::sha256, digest)));
}

TEST(Token, TokenGoneMidSessionIsClassified) {
  SoftHsmToken hsm;
  Token t = Token::open(hsm.module_path(), hsm.key_uri("k"));
  t.login(hsm.user_pin_secure());
  t.generate_key("k", 2048);
  Signer& s = t.signer();
  std::filesystem::remove_all(hsm.token_dir());
  try {
    s.sign_digest(HashAlgorithm::sha256, digest_of(HashAlgorithm::sha256, "z"));
    ADD_FAILURE() << "signed with a token whose folder is gone";
  } catch (const TokenError& e) {
    EXPECT_TRUE(e.token_gone()) << e.what() << " rv=" << e.rv();
    EXPECT_TRUE(contains(e.what(), "catsign unlock")) << e.what();
  }
}

TEST(Token, RepeatedOpenLoginSignClose) {
  SoftHsmToken hsm;
  {
    Token t = Token::open(hsm.module_path(), hsm.key_uri("k"));
    t.login(hsm.user_pin_secure());
    t.generate_key("k", 2048);
  }
  for (int i = 0; i < 20; ++i) {
    Token t = Token::open(hsm.module_path(), hsm.key_uri("k"));
    t.login(hsm.user_pin_secure());
    Bytes digest = digest_of(HashAlgorithm::sha256, "round " + std::to_string(i));
    Bytes sig = t.signer().sign_digest(HashAlgorithm::sha256, digest);
    ASSERT_TRUE(botan_verifies(t.signer().public_key(), HashAlgorithm::sha256, digest, sig)) << "round " << i;
  }
}

// The daemon runs up to `sessions` signatures at once on one Token: sign_digest holds no
// shared state of its own, and libp11 takes a session from its pool for each call.
TEST(Token, ConcurrentSignDigest) {
  SoftHsmToken hsm;
  Token t = Token::open(hsm.module_path(), hsm.key_uri("k"));
  t.login(hsm.user_pin_secure());
  t.generate_key("k", 2048);
  Signer& s = t.signer();
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j) {
        Bytes digest = digest_of(HashAlgorithm::sha256, std::to_string(i) + "/" + std::to_string(j));
        try {
          if (botan_verifies(s.public_key(), HashAlgorithm::sha256, digest, s.sign_digest(HashAlgorithm::sha256, digest)))
            ++good;
        } catch (const std::exception&) {
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 80);
}

TEST(Token, MoveKeepsOwnership) {
  SoftHsmToken hsm;
  Token a = Token::open(hsm.module_path(), hsm.key_uri("k"));
  a.login(hsm.user_pin_secure());
  a.generate_key("k", 2048);
  Token b = std::move(a);
  Bytes digest = digest_of(HashAlgorithm::sha256, "moved");
  EXPECT_TRUE(botan_verifies(b.signer().public_key(), HashAlgorithm::sha256, digest,
                             b.signer().sign_digest(HashAlgorithm::sha256, digest)));
}

}  // namespace
}  // namespace catsign::token
