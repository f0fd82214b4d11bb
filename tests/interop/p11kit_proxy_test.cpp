// SPDX-License-Identifier: Apache-2.0
// catsign through p11-kit's proxy module, the way distributions expose every token: keygen,
// sign with two keys and the daemon (unlock, sign, lock, unlock again) end to end, with
// SoftHSM registered in a private p11-kit configuration this test writes (XDG_CONFIG_HOME),
// never the host's. p11-kit reads a user's configuration only when not root, so as root the
// programs under test run as nobody on a folder given to nobody.
//
// This proves the token layer loads the module once: with two loads of the proxy (libp11's and
// catsign's own), the second saw CKR_CRYPTOKI_NOT_INITIALIZED (docs/DESIGN.md "Why raw PKCS#11").
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <sstream>

#include "../daemon/daemon_fixture.hpp"
#include "../support/cli.hpp"
#include "../support/process.hpp"

namespace catsign {
namespace {

using namespace testing;
namespace fs = std::filesystem;

const std::string kProxy = "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so";
const std::string kSource = CATSIGN_SOURCE_DIR;
constexpr uid_t kNobody = 65534;

bool as_root() { return ::geteuid() == 0; }

// A p11-kit user configuration under `xdg` in which SoftHSM is the only module: every module
// the host registers is overridden by a same-named file that enables it in no program.
void write_p11kit_config(const fs::path& xdg) {
  const fs::path modules = xdg / "pkcs11/modules";
  fs::create_directories(modules);
  for (const char* system_dir : {"/usr/share/p11-kit/modules", "/etc/pkcs11/modules"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(system_dir, ec)) {
      if (e.path().extension() != ".module") continue;
      std::string module;
      for (std::istringstream in(read_text(e.path())); std::getline(in, module);)
        if (module.rfind("module:", 0) == 0) break;
      write_text(modules / e.path().filename(), module + "\nenable-in: catsign-test-nothing\n");
    }
  }
  write_text(modules / "catsign-test-softhsm.module", "module: " + SoftHsmToken::module_path() + "\ncritical: yes\n");
}

class P11KitProxy : public ::testing::Test {
 protected:
  void SetUp() override {
    write_p11kit_config(dir_ / "xdg");
    fs::create_directories(dir_ / "home");
    RunResult t = run({"bash", kSource + "/softhsm-fixtures/make-token", (dir_ / "softhsm").string(), "catsign",
                       "12345678", SoftHsmToken::kUserPin});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    std::string keys;
    for (const char* name : {"catalog-2026", "catalog-2027"})
      keys += "[keys." + std::string(name) + "]\nuri = \"pkcs11:token=catsign;object=" + name +
              "\"\ncertificate = \"keys/" + name + ".asc\"\nrevocation = \"keys/" + name + ".rev\"\n\n";
    fs::create_directories(dir_ / "keys");
    write_text(dir_ / "catsign.toml", "[token]\nmodule = \"" + kProxy + "\"\n\n" + keys +
                                          "[catalogs]\nkey = [\"catalog-2026\", \"catalog-2027\"]\n");
    if (as_root()) chown_tree(dir_.path(), kNobody);
  }
  std::map<std::string, std::string> env() const {
    return {{"SOFTHSM2_CONF", (dir_ / "softhsm/softhsm2.conf").string()},
            {"XDG_CONFIG_HOME", (dir_ / "xdg").string()},
            {"HOME", (dir_ / "home").string()}};
  }
  RunResult unprivileged(std::vector<std::string> argv, const std::string* pin = nullptr) const {
    if (as_root()) argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"});
    return run(argv, "", env(), pin);
  }
  RunResult catsign(std::vector<std::string> args, const std::string* pin = nullptr) const {
    args.insert(args.begin(), kCatsign);
    return unprivileged(args, pin);
  }
  std::string config() const { return (dir_ / "catsign.toml").string(); }
  std::string cert(const std::string& name) const { return (dir_ / "keys" / (name + ".asc")).string(); }

  TempDir dir_;
};

TEST_F(P11KitProxy, OnlyThePrivatelyRegisteredTokenIsSeen) {
  RunResult r = unprivileged({"env", "P11_KIT_DEBUG=conf", "pkcs11-tool", "--module", kProxy, "--list-token-slots"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // p11-kit read this test's configuration (and so the proxy's SoftHSM is the one it names).
  EXPECT_NE(r.err.find((dir_ / "xdg/pkcs11/modules/catsign-test-softhsm.module").string()), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("skipping user config"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("token label        : catsign"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SoftHSM"), std::string::npos) << r.out;
}

TEST_F(P11KitProxy, KeygenAndSignWithTwoKeysThroughTheProxy) {
  for (const char* name : {"catalog-2026", "catalog-2027"}) {
    RunResult r = catsign({"keygen", "--config", config(), "--key", name, "--bits", "2048", "--uid",
                           std::string(name) + " <" + name + "@example.org>", "--pin-fd", "3"},
                          &kPinLine);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("CKR_CRYPTOKI_NOT_INITIALIZED"), std::string::npos) << r.err;
  }
  write_text(dir_ / "catalog", "# a catalog\nbash 4.1.9 CSWbash bash.pkg.gz 6c3a 1572014 CSWcommon none\n");
  if (as_root()) chown_tree(dir_.path(), kNobody);
  const std::string data = (dir_ / "catalog").string();
  RunResult r = catsign({"sign", "--config", config(), "--pin-fd", "3", data}, &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = catsign({"sign", "--config", config(), "--clearsign", "--pin-fd", "3", data}, &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"catalog-2026", "catalog-2027"}) {
    RunResult s = run({"sqv", "--keyring", cert(name), data + ".asc", data});
    EXPECT_EQ(s.exit_code, 0) << s.err;
    RunResult q = run({"sq", "verify", "--signer-cert", cert(name), data + ".signed"});
    EXPECT_EQ(q.exit_code, 0) << q.err;
  }
  GpgHome gpg(cert("catalog-2026"));
  ASSERT_EQ(gpg.gpg({"--import", cert("catalog-2027")}).exit_code, 0);
  RunResult g = gpg.verify({data + ".signed"});
  EXPECT_EQ(g.exit_code, 0) << g.err;
  // A wrong PIN through the proxy is the token's answer, not a module failure.
  const std::string wrong = "000000\n";
  r = catsign({"sign", "--config", config(), "--pin-fd", "3", data}, &wrong);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("wrong PIN for token \"catsign\""), std::string::npos) << r.err;
}

TEST(P11KitProxyDaemon, UnlockSignLockUnlockThroughTheProxy) {
  TempDir xdg;
  write_p11kit_config(xdg.path());
  fs::create_directories(xdg / "home");
  if (as_root()) chown_tree(xdg.path(), kNobody);
  DaemonOptions options;
  options.module = kProxy;
  options.env = {{"XDG_CONFIG_HOME", xdg.path().string()}, {"HOME", (xdg / "home").string()}};
  options.second_catalog_key = true;
  if (as_root()) {
    options.run_as = kNobody;
    options.sign_uids = "[0]";
    options.admin_uids = "[0]";
  }
  DaemonFixture d(options);
  const std::string tuple = "unstable/i386/5.10";
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    Reply u = d.unlock();
    ASSERT_EQ(u.code, "OK") << u.payload << "\n" << d.log();
    Reply r = d.sign(tuple);
    ASSERT_EQ(r.code, "OK") << r.payload << "\n" << d.log();
    TempDir t;
    write_text(t / "catalog.asc", r.payload);
    for (const auto& cert : {d.cert(), d.next_cert()}) {
      RunResult v = run({"sqv", "--keyring", cert.string(), (t / "catalog.asc").string(), d.catalog(tuple).string()});
      EXPECT_EQ(v.exit_code, 0) << v.err;
    }
    // Locking finalises the proxy; the next unlock loads and initialises it again.
    ASSERT_EQ(d.lock().code, "OK");
    EXPECT_EQ(d.sign(tuple).code, "LOCKED");
  }
  EXPECT_EQ(d.log().find("CKR_CRYPTOKI_NOT_INITIALIZED"), std::string::npos) << d.log();
}

}  // namespace
}  // namespace catsign
