// SPDX-License-Identifier: Apache-2.0
// What catsign does with keys it did not expect: a keygen that fails at any point leaves no
// key and no certificate behind (a token that fails after making half a pair, a signature
// that fails while the certificate is made, a token that ignores the sign-only template), and
// a configured key that can also decrypt is named in a warning whenever it is used. The token
// is SoftHSM behind the fault module (tests/faulty_pkcs11).
#include <gtest/gtest.h>

#include "../support/cli.hpp"
#include "../support/process.hpp"
#include "../token/softhsm_fixture.hpp"

namespace catsign {
namespace {

using namespace testing;
namespace fs = std::filesystem;

class KeygenCleanup : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "keys");
    write_text(dir_ / "catsign.toml", "[token]\nmodule = \"" + std::string(FAULTY_PKCS11_MODULE) +
                                          "\"\n\n[keys.catalog]\nuri = \"pkcs11:token=catsign;object=catalog-new\"\n"
                                          "certificate = \"keys/catalog.asc\"\nrevocation = \"keys/catalog.rev\"\n");
  }
  void faults(const std::string& text) { write_text(dir_ / "control", text); }
  RunResult catsign(std::vector<std::string> args) {
    args.insert(args.begin(), kCatsign);
    return run(args, "",
               {{"SOFTHSM2_CONF", hsm_.conf_path()}, {"FAULTY_PKCS11_CONTROL", (dir_ / "control").string()}},
               &kPinLine);
  }
  RunResult keygen() {
    return catsign({"keygen", "--config", (dir_ / "catsign.toml").string(), "--bits", "2048", "--uid",
                    "Catalog <catalog@example.org>", "--pin-fd", "3"});
  }
  // Every object on the token, public and private, as pkcs11-tool lists them through SoftHSM.
  std::string objects() {
    RunResult r = run({"pkcs11-tool", "--module", SoftHsmToken::module_path(), "--token-label", "catsign", "--login",
                       "--pin", SoftHsmToken::kUserPin, "--list-objects"},
                      "", {{"SOFTHSM2_CONF", hsm_.conf_path()}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  void expect_nothing_left(const RunResult& r) {
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(objects().find("catalog-new"), std::string::npos) << objects();
    EXPECT_FALSE(fs::exists(dir_ / "keys/catalog.asc"));
    EXPECT_FALSE(fs::exists(dir_ / "keys/catalog.rev"));
    // The label is free again: a keygen without the fault makes the key.
    faults("");
    RunResult again = keygen();
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(objects().find("catalog-new"), std::string::npos);
  }

  SoftHsmToken hsm_;
  TempDir dir_;
};

TEST_F(KeygenCleanup, HalfAKeyPairLeftByTheTokenIsRemoved) {
  faults("half_keypair CKR_FUNCTION_FAILED\n");
  RunResult r = keygen();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("CKR_FUNCTION_FAILED"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 object(s) it left were deleted"), std::string::npos) << r.err;
  expect_nothing_left(r);
}

TEST_F(KeygenCleanup, ASignatureThatFailsWhileTheCertificateIsMadeRemovesThePair) {
  faults("fail C_Sign 1 CKR_FUNCTION_FAILED\n");
  RunResult r = keygen();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("the new key pair was removed from the token"), std::string::npos) << r.err;
  expect_nothing_left(r);
}

TEST_F(KeygenCleanup, ATokenThatIgnoresTheSignOnlyTemplateGetsThePairDeleted) {
  faults("can_decrypt\n");
  RunResult r = keygen();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("CKA_DECRYPT"), std::string::npos) << r.err;
  expect_nothing_left(r);
}

TEST_F(KeygenCleanup, AKeyThatCanAlsoDecryptIsWarnedAboutAtEverySignature) {
  ASSERT_EQ(keygen().exit_code, 0);
  write_text(dir_ / "f", "x\n");
  RunResult r = catsign({"sign", "--config", (dir_ / "catsign.toml").string(), "--pin-fd", "3", (dir_ / "f").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  // The same key, as a token that allows decryption reports it (a key made by another tool).
  faults("can_decrypt\n");
  r = catsign({"sign", "--config", (dir_ / "catsign.toml").string(), "--pin-fd", "3", (dir_ / "f").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;  // warned, not refused
  EXPECT_NE(r.err.find("catsign: warning: key 'catalog': the private key \"catalog-new\" on token \"catsign\" can "
                       "also decrypt (CKA_DECRYPT true)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("sign-only"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(SoftHsmToken::kUserPin), std::string::npos);
  RunResult v = run({"sqv", "--keyring", (dir_ / "keys/catalog.asc").string(), (dir_ / "f.asc").string(),
                     (dir_ / "f").string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
}

}  // namespace
}  // namespace catsign
