// SPDX-License-Identifier: Apache-2.0
// The error lines a new user meets, each tried the way a new user would: the real catsign
// binary, the shipped example config, a real token. Each must say what was wrong and what to
// do, in one line.
#include <gtest/gtest.h>

#include "../daemon/daemon_fixture.hpp"
#include "../support/process.hpp"
#include "../token/softhsm_fixture.hpp"

namespace catsign::testing {
namespace {

const std::string kCatsign = CATSIGN_BINARY;

RunResult catsign(std::vector<std::string> args, const std::map<std::string, std::string>& env = {},
                  const std::string* pin = nullptr) {
  args.insert(args.begin(), kCatsign);
  return run(args, "", env, pin);
}

// One line on stderr, ending in LF.
void expect_one_line(const RunResult& r) {
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

TEST(FirstUse, UnknownCommandIsNamed) {
  RunResult r = catsign({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("status"), std::string::npos) << r.err;  // the commands there are
  expect_one_line(r);

  r = catsign({"statsu", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'statsu'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'catsign status'"), std::string::npos) << r.err;

  r = catsign({"audit", "verfy", "log.jsonl"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'verfy'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("catsign audit verify"), std::string::npos) << r.err;

  // Options before the command, and a command's own arguments, are not commands.
  r = catsign({"verify", "--cert", "/nonexistent.asc", "sig"});
  EXPECT_EQ(r.err.find("unknown command"), std::string::npos) << r.err;
}

TEST(FirstUse, UnquotedDurationSaysToQuoteIt) {
  TempDir d;
  write_text(d / "catsign.toml", "[daemon]\nunlock_window = 7d\n");
  RunResult r = catsign({"status", "--config", (d / "catsign.toml").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("catsign.toml:2: unlock_window = 7d: a duration is a quoted string; write unlock_window = \"7d\""),
            std::string::npos)
      << r.err;
  expect_one_line(r);
}

// A token with one key and a detached signature made by `catsign sign`.
class FirstUseSigned : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "keys");
    write_text(dir_ / "catsign.toml", "[token]\nmodule = \"" + SoftHsmToken::module_path() +
                                          "\"\n[keys.catalog]\nuri = \"pkcs11:token=catsign;object=catalog\"\n"
                                          "certificate = \"keys/catalog.asc\"\nrevocation = \"keys/catalog.rev.asc\"\n");
    ASSERT_EQ(cli({"keygen", "--config", config(), "--bits", "2048", "--uid", "T <t@example.org>", "--pin-fd", "3"},
                  &pin_)
                  .exit_code,
              0);
    write_text(dir_ / "catalog", "catalog text\n");
  }
  RunResult cli(std::vector<std::string> args, const std::string* pin = nullptr) {
    return catsign(std::move(args), {{"SOFTHSM2_CONF", hsm_.conf_path()}}, pin);
  }
  std::string config() const { return (dir_ / "catsign.toml").string(); }

  SoftHsmToken hsm_;
  TempDir dir_;
  std::string pin_ = std::string(SoftHsmToken::kUserPin) + "\n";
};

TEST_F(FirstUseSigned, VerifyOfADetachedSignatureWithoutDataSaysToGiveTheFile) {
  for (bool binary : {false, true}) {
    SCOPED_TRACE(binary ? "binary" : "armored");
    std::vector<std::string> args = {"sign", "--config", config(), "--pin-fd", "3", (dir_ / "catalog").string()};
    if (binary) args.insert(args.begin() + 1, "--binary");
    ASSERT_EQ(cli(args, &pin_).exit_code, 0);
    std::string sig = (dir_ / (binary ? "catalog.sig" : "catalog.asc")).string();
    RunResult r = cli({"verify", "--cert", (dir_ / "keys/catalog.asc").string(), sig});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("detached signature: give the signed file"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(sig + " " + (dir_ / "catalog").string()), std::string::npos) << r.err;  // the command to run
    expect_one_line(r);
    // ... and given the file, it is good.
    EXPECT_EQ(cli({"verify", "--cert", (dir_ / "keys/catalog.asc").string(), sig, (dir_ / "catalog").string()}).exit_code,
              0);
  }
}

TEST_F(FirstUseSigned, ModulePathInTheKeyUriIsUsed) {
  // No [token] module, the module named only by the URI: a module that does not exist is the
  // one the error names, and the real one signs.
  auto config_with = [&](const std::string& module_path) {
    write_text(dir_ / "uri.toml", "[keys.catalog]\nuri = \"pkcs11:token=catsign;object=catalog?module-path=" +
                                      module_path + "\"\ncertificate = \"keys/catalog.asc\"\n");
    return (dir_ / "uri.toml").string();
  };
  RunResult r = cli({"sign", "--config", config_with("/nonexistent/libnothing.so"), "--pin-fd", "3",
                     (dir_ / "catalog").string()},
                    &pin_);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("/nonexistent/libnothing.so"), std::string::npos) << r.err;
  // A symlink to SoftHSM is another spelling of the same module.
  std::filesystem::create_symlink(SoftHsmToken::module_path(), dir_ / "libsofthsm-link.so");
  r = cli({"sign", "--config", config_with((dir_ / "libsofthsm-link.so").string()), "--pin-fd", "3",
           "--output", (dir_ / "via-uri.asc").string(), (dir_ / "catalog").string()},
          &pin_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(cli({"verify", "--cert", (dir_ / "keys/catalog.asc").string(), (dir_ / "via-uri.asc").string(),
                 (dir_ / "catalog").string()})
                .exit_code,
            0);
  // Named beside a different [token] module: refused before anything is opened.
  write_text(dir_ / "both.toml", "[token]\nmodule = \"" + SoftHsmToken::module_path() +
                                     "\"\n[keys.catalog]\nuri = \"pkcs11:token=catsign;object=catalog?module-path="
                                     "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\"\ncertificate = \"keys/catalog.asc\"\n");
  r = cli({"sign", "--config", (dir_ / "both.toml").string(), "--pin-fd", "3", (dir_ / "catalog").string()}, &pin_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("module-path=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so but [token] module is"),
            std::string::npos)
      << r.err;
  expect_one_line(r);
}

// packaging/catsign.toml.example, installed as the README says, after `catsign keygen --key
// catalog` only: catsignd starts and signs catalogs; everything that needs the package key
// names the keygen to run.
TEST(FirstUse, ExampleConfigWorksWithOnlyTheCatalogKey) {
  DaemonOptions o;
  o.example_config = true;
  DaemonFixture daemon(o);
  EXPECT_NE(daemon.log().find("key 'package' has no certificate at " + (daemon.dir() / "keys/packages-2026.asc").string() +
                              ": make the key with `catsign keygen --config " + daemon.config().string() +
                              " --key package"),
            std::string::npos)
      << daemon.log();
  ASSERT_EQ(daemon.unlock().code, "OK");
  EXPECT_EQ(daemon.sign("unstable/i386/5.10").code, "OK");

  write_text(daemon.root() / "allpkgs/foo.pkg.gz", "package\n");
  Reply r = daemon.raw("SIGNPKG foo.pkg.gz sha256=" + std::string(64, '0') + "\n");
  EXPECT_EQ(r.code, "DENIED");
  EXPECT_NE(r.payload.find("catsign keygen --config " + daemon.config().string() + " --key package"), std::string::npos)
      << r.payload;

  // The one-shot command says so before it asks for a PIN (there is no terminal here).
  RunResult s = daemon.catsign({"sign-packages", "--config", daemon.config().string(),
                                (daemon.root() / "allpkgs/foo.pkg.gz").string()});
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.err.find("key 'package' has no certificate"), std::string::npos) << s.err;
  EXPECT_NE(s.err.find("catsign keygen --config " + daemon.config().string() + " --key package"), std::string::npos)
      << s.err;
  expect_one_line(s);

  // The catalog key itself missing: catsignd refuses to start, naming the keygen.
  daemon.stop();
  std::filesystem::rename(daemon.dir() / "keys/catalog-2026.asc", daemon.dir() / "keys/aside.asc");
  RunResult d = run({CATSIGND_BINARY, "--config", daemon.config().string()}, "",
                    {{"SOFTHSM2_CONF", daemon.softhsm_conf()}});
  EXPECT_EQ(d.exit_code, 2);
  EXPECT_NE(d.err.find("key 'catalog' has no certificate"), std::string::npos) << d.err;
  EXPECT_NE(d.err.find("--key catalog"), std::string::npos) << d.err;
}

}  // namespace
}  // namespace catsign::testing
