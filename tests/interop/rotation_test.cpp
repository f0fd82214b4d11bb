// SPDX-License-Identifier: Apache-2.0
// Key rotation with two signatures: two keys on one token, files signed by both in every form
// (sign --key a --key b, and [catalogs] key = [...]), and what real clients make of them:
// sqv and sq accept the file knowing either key, apt-get update accepts a dual-signed
// InRelease and Release.gpg knowing only the old or only the new key, gpg knowing both counts
// two good signatures, gpg and gpgv knowing one exit 2 (which is why pkgutil, judging by
// gpg's exit code, needs the new key shipped first), and catsign verify names each signature.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>

#include "../support/cli.hpp"
#include "../support/process.hpp"
#include "../token/softhsm_fixture.hpp"
#include "catsign/util/digest.hpp"

namespace catsign {
namespace {

using namespace testing;
namespace fs = std::filesystem;

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

std::string describe(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

// A minimal apt repository beneath `root`: dists/stable/{Release,main/binary-amd64/Packages}
// offering catsign-hello 1.0.
void make_apt_repo(const fs::path& root) {
  const fs::path dist = root / "dists/stable";
  fs::create_directories(dist / "main/binary-amd64");
  const std::string packages =
      "Package: catsign-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: Test <test@example.org>\n"
      "Filename: pool/main/c/catsign-hello/catsign-hello_1.0_all.deb\nSize: 1000\n"
      "SHA256: 0000000000000000000000000000000000000000000000000000000000000000\n"
      "Description: a package that only needs to be listed\n";
  write_text(dist / "main/binary-amd64/Packages", packages);
  char date[64];
  std::time_t now = std::time(nullptr) - 60;
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S UTC", &tm);
  write_text(dist / "Release", "Origin: catsign-test\nLabel: catsign-test\nSuite: stable\nCodename: stable\nDate: " +
                                   std::string(date) +
                                   "\nArchitectures: amd64\nComponents: main\nSHA256:\n " + sha256_hex(packages) +
                                   " " + std::to_string(packages.size()) + " main/binary-amd64/Packages\n");
}

// apt-get update against file:<repo> with `keyring` as signed-by, every folder apt reads or
// writes private to this object (nothing of the host's apt configuration is used).
class Apt {
 public:
  Apt(const fs::path& repo, const fs::path& keyring) {
    const fs::path d = dir_.path();
    for (const char* sub : {"etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/apt.conf.d",
                            "etc/apt/trusted.gpg.d", "state/lists/partial", "cache/archives/partial", "log"})
      fs::create_directories(d / sub);
    write_text(d / "status", "");
    fs::copy_file(keyring, d / "keyring.asc");
    write_text(d / "etc/apt/sources.list",
               "deb [signed-by=" + (d / "keyring.asc").string() + "] file:" + repo.string() + " stable main\n");
    write_text(d / "apt.conf", "Dir::State \"" + (d / "state").string() + "\";\nDir::State::status \"" +
                                   (d / "status").string() + "\";\nDir::Cache \"" + (d / "cache").string() +
                                   "\";\nDir::Etc \"" + (d / "etc/apt").string() + "\";\nDir::Log \"" +
                                   (d / "log").string() + "\";\nAPT::Sandbox::User \"root\";\n"
                                   "Acquire::Languages \"none\";\n");
  }
  RunResult run_tool(const std::string& tool, const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {tool};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, "", {{"APT_CONFIG", (dir_.path() / "apt.conf").string()}, {"LC_ALL", "C"}});
  }
  // update succeeded without a warning and offers catsign-hello 1.0 from the repository.
  ::testing::AssertionResult accepts() const {
    RunResult u = run_tool("apt-get", {"update"});
    if (u.exit_code != 0) return ::testing::AssertionFailure() << "apt-get update failed: " << describe(u);
    if (u.err.find("W:") != std::string::npos || u.err.find("E:") != std::string::npos)
      return ::testing::AssertionFailure() << "apt-get update complained: " << describe(u);
    RunResult p = run_tool("apt-cache", {"policy", "catsign-hello"});
    if (p.out.find("Candidate: 1.0") == std::string::npos)
      return ::testing::AssertionFailure() << "apt-cache policy does not offer 1.0: " << describe(p);
    return ::testing::AssertionSuccess();
  }

 private:
  TempDir dir_;
};

class Rotation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    hsm_ = new SoftHsmToken();
    dir_ = new TempDir();
    fs::create_directories(*dir_ / "keys");
    std::string keys;
    for (const char* name : {"catalog-2026", "catalog-2027", "catalog-other"})
      keys += "[keys." + std::string(name) + "]\nuri = \"pkcs11:token=catsign;object=" + name +
              "\"\ncertificate = \"keys/" + name + ".asc\"\nrevocation = \"keys/" + name + ".rev\"\n\n";
    write_text(*dir_ / "catsign.toml", "[token]\nmodule = \"" + SoftHsmToken::module_path() + "\"\n\n" + keys +
                                           "[catalogs]\nkey = [\"catalog-2026\", \"catalog-2027\"]\n");
    for (const char* name : {"catalog-2026", "catalog-2027", "catalog-other"}) {
      RunResult r = catsign({"keygen", "--config", config(), "--key", name, "--bits", "2048", "--uid",
                             std::string(name) + " <" + name + "@example.org>", "--pin-fd", "3"},
                            &kPinLine);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete hsm_;
  }

  static std::string config() { return (*dir_ / "catsign.toml").string(); }
  static std::string cert(const std::string& name) { return (*dir_ / "keys" / (name + ".asc")).string(); }
  static std::string fingerprint(const std::string& name) {
    GpgHome g(cert(name));
    RunResult r = g.gpg({"--with-colons", "--fingerprint"});
    std::size_t at = r.out.find("fpr:::::::::");
    return at == std::string::npos ? std::string() : r.out.substr(at + 12, 40);
  }
  static RunResult catsign(std::vector<std::string> args, const std::string* pin = nullptr) {
    args.insert(args.begin(), kCatsign);
    return testing::run(args, "", {{"SOFTHSM2_CONF", hsm_->conf_path()}}, pin);
  }

  static inline SoftHsmToken* hsm_ = nullptr;
  static inline TempDir* dir_ = nullptr;
};

TEST_F(Rotation, TwoKeysTwoSignaturesEveryClient) {
  TempDir d;
  const fs::path data = d / "catalog";
  write_text(data, "# a catalog\nbash 4.1.9 CSWbash bash.pkg.gz 6c3a 1572014 CSWcommon none\n-dash\n");
  // --key twice, and [catalogs] key for the cleartext form.
  RunResult r = catsign({"sign", "--config", config(), "--key", "catalog-2026", "--key", "catalog-2027", "--pin-fd",
                         "3", data.string()}, &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = catsign({"sign", "--config", config(), "--binary", "--key", "catalog-2026", "--key", "catalog-2027",
               "--pin-fd", "3", data.string()}, &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = catsign({"sign", "--config", config(), "--clearsign", "--pin-fd", "3", data.string()}, &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string asc = data.string() + ".asc", sig = data.string() + ".sig", signed_file = data.string() + ".signed";
  const std::string old_fpr = fingerprint("catalog-2026"), new_fpr = fingerprint("catalog-2027");
  ASSERT_EQ(old_fpr.size(), 40u);

  for (const std::string& detached : {asc, sig}) {
    SCOPED_TRACE(detached);
    // sqv and sq knowing either key accept; knowing only an unrelated key they refuse.
    for (const char* name : {"catalog-2026", "catalog-2027"}) {
      RunResult s = run({"sqv", "--keyring", cert(name), detached, data.string()});
      EXPECT_EQ(s.exit_code, 0) << name << "\n" << describe(s);
      RunResult q = run({"sq", "verify", "--signer-cert", cert(name), "--detached", detached, data.string()});
      EXPECT_EQ(q.exit_code, 0) << name << "\n" << describe(q);
    }
    EXPECT_NE(run({"sqv", "--keyring", cert("catalog-other"), detached, data.string()}).exit_code, 0);
    // gpg knowing both: two good signatures, exit 0.
    GpgHome both(cert("catalog-2026"));
    ASSERT_EQ(both.gpg({"--import", cert("catalog-2027")}).exit_code, 0);
    RunResult g = both.verify({detached, data.string()});
    EXPECT_EQ(g.exit_code, 0) << describe(g);
    EXPECT_EQ(count(g.out, "[GNUPG:] GOODSIG"), 2u) << g.out;
    // gpg and gpgv knowing one: one good signature, one unknown, exit 2 (gpg's documented
    // "some signatures could not be checked"). pkgutil judges by that exit code.
    GpgHome one(cert("catalog-2026"));
    g = one.verify({detached, data.string()});
    EXPECT_EQ(g.exit_code, 2) << describe(g);
    EXPECT_EQ(count(g.out, "[GNUPG:] GOODSIG"), 1u) << g.out;
    EXPECT_EQ(count(g.out, "[GNUPG:] NO_PUBKEY"), 1u) << g.out;
    RunResult v = run({"gpgv", "--keyring", (one.path() / "pubring.kbx").string(), detached, data.string()});
    EXPECT_EQ(v.exit_code, 2) << describe(v);
  }
  // The cleartext form: sq knowing either key, gpg knowing both (exit 0) or one (exit 2).
  for (const char* name : {"catalog-2026", "catalog-2027"}) {
    RunResult q = run({"sq", "verify", "--signer-cert", cert(name), signed_file});
    EXPECT_EQ(q.exit_code, 0) << name << "\n" << describe(q);
  }
  {
    GpgHome both(cert("catalog-2026"));
    ASSERT_EQ(both.gpg({"--import", cert("catalog-2027")}).exit_code, 0);
    RunResult g = both.verify({signed_file});
    EXPECT_EQ(g.exit_code, 0) << describe(g);
    EXPECT_EQ(count(g.out, "[GNUPG:] GOODSIG"), 2u) << g.out;
    GpgHome one(cert("catalog-2027"));
    g = one.verify({signed_file});
    EXPECT_EQ(g.exit_code, 2) << describe(g);
  }

  // catsign verify knowing either key passes and names both signatures; --all needs both.
  for (const std::vector<std::string>& tail :
       {std::vector<std::string>{asc, data.string()}, {sig, data.string()}, {signed_file}}) {
    SCOPED_TRACE(tail.front());
    for (const std::string& name : {std::string("catalog-2026"), std::string("catalog-2027")}) {
      std::vector<std::string> args = {"verify", "--cert", cert(name)};
      args.insert(args.end(), tail.begin(), tail.end());
      RunResult c = catsign(args);
      EXPECT_EQ(c.exit_code, 0) << describe(c);
      const std::string& known = name == "catalog-2026" ? old_fpr : new_fpr;
      const std::string& other = name == "catalog-2026" ? new_fpr : old_fpr;
      EXPECT_NE(c.out.find("good signature from " + known), std::string::npos) << c.out;
      EXPECT_NE(c.out.find("unknown signature from " + other), std::string::npos) << c.out;
      args.insert(args.begin() + 1, "--all");
      c = catsign(args);
      EXPECT_EQ(c.exit_code, 1) << describe(c);
      EXPECT_NE(c.err.find("--all"), std::string::npos) << c.err;
    }
    std::vector<std::string> args = {"verify", "--all", "--cert", cert("catalog-2026"), "--cert", cert("catalog-2027")};
    args.insert(args.end(), tail.begin(), tail.end());
    RunResult c = catsign(args);
    EXPECT_EQ(c.exit_code, 0) << describe(c);
    EXPECT_EQ(count(c.out, "good signature from "), 2u) << c.out;
    // Knowing neither key: refused, naming who did sign.
    args = {"verify", "--cert", cert("catalog-other")};
    args.insert(args.end(), tail.begin(), tail.end());
    c = catsign(args);
    EXPECT_EQ(c.exit_code, 1) << describe(c);
    EXPECT_NE(c.err.find("no signature by a given certificate"), std::string::npos) << c.err;
    EXPECT_NE(c.err.find(old_fpr), std::string::npos) << c.err;
  }

  // One changed byte: bad for every client and for catsign verify, whichever key it knows.
  std::string text = read_text(data);
  text[2] ^= 1;
  write_text(d / "tampered", text);
  for (const char* name : {"catalog-2026", "catalog-2027"}) {
    EXPECT_NE(run({"sqv", "--keyring", cert(name), asc, (d / "tampered").string()}).exit_code, 0);
    RunResult c = catsign({"verify", "--cert", cert(name), asc, (d / "tampered").string()});
    EXPECT_EQ(c.exit_code, 1) << describe(c);
    EXPECT_NE(c.out.find("bad signature from "), std::string::npos) << c.out;
    EXPECT_NE(c.err.find("BAD signature"), std::string::npos) << c.err;
  }
}

TEST_F(Rotation, AptAcceptsADualSignedRepositoryKnowingEitherKey) {
  TempDir d;
  const fs::path repo = d / "repo";
  make_apt_repo(repo);
  const fs::path release = repo / "dists/stable/Release";
  // InRelease (cleartext) and Release.gpg (armored detached), both signed by both keys.
  RunResult r = catsign({"sign", "--config", config(), "--clearsign", "--output",
                         (repo / "dists/stable/InRelease").string(), "--pin-fd", "3", release.string()},
                        &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = catsign({"sign", "--config", config(), "--output", (repo / "dists/stable/Release.gpg").string(), "--pin-fd",
               "3", release.string()},
              &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"catalog-2026", "catalog-2027"}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(Apt(repo, cert(name)).accepts());
  }
  // Only Release.gpg (apt falls back to it without InRelease): the same.
  fs::rename(repo / "dists/stable/InRelease", d / "InRelease");
  for (const char* name : {"catalog-2026", "catalog-2027"}) {
    SCOPED_TRACE(std::string(name) + " Release.gpg");
    EXPECT_TRUE(Apt(repo, cert(name)).accepts());
  }
  fs::rename(d / "InRelease", repo / "dists/stable/InRelease");
  // A key that signed neither: apt refuses the repository.
  Apt stranger(repo, cert("catalog-other"));
  EXPECT_FALSE(stranger.accepts());
  RunResult u = stranger.run_tool("apt-get", {"update"});
  EXPECT_NE(u.err.find("NO_PUBKEY"), std::string::npos) << describe(u);
}

TEST_F(Rotation, SignRefusesUnknownOrRepeatedKeys) {
  TempDir d;
  write_text(d / "f", "x\n");
  RunResult r = catsign({"sign", "--config", config(), "--key", "catalog-2026", "--key", "catalog-2028", "--pin-fd",
                         "3", (d / "f").string()}, &kPinLine);
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("no key 'catalog-2028'"), std::string::npos) << r.err;
  r = catsign({"sign", "--config", config(), "--key", "catalog-2026", "--key", "catalog-2026", "--pin-fd", "3",
               (d / "f").string()}, &kPinLine);
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("twice"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "f.asc"));
  // One --key still signs once.
  r = catsign({"sign", "--config", config(), "--key", "catalog-2027", "--pin-fd", "3", (d / "f").string()}, &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  r = catsign({"verify", "--all", "--cert", cert("catalog-2027"), (d / "f.asc").string(), (d / "f").string()});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(count(r.out, "signature from"), 1u) << r.out;
}

std::string dearmor(const fs::path& armored) {
  RunResult r = run({"gpg", "--batch", "--dearmor", "--output", "-", armored.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// While the package key is rotated, packages carry one signature per key, and the package
// gate (check-catalog here, the daemon's gate alike) passes a catalog whose keyring knows
// either key; a bad signature by a key the keyring knows fails it, whatever else is good.
TEST_F(Rotation, PackagesSignedByTwoKeysPassTheGateKnowingEither) {
  TempDir d;
  const std::string tuple = "unstable/i386/5.10";
  const fs::path dir = d / tuple;
  fs::create_directories(dir);
  const std::string file = "hello-1.0-SunOS5.10-i386-CSW.pkg.gz";
  const std::string data(4096, 'p');
  write_text(dir / file, data);
  write_text(dir / "catalog", "hello 1.0 CSWhello " + file + " " + md5_hex(data) + " " + std::to_string(data.size()) +
                                  " none application none\n");
  RunResult s = catsign({"sign-packages", "--config", config(), "--key", "catalog-2026", "--key", "catalog-2027",
                         "--pin-fd", "3", (dir / file).string()},
                        &kPinLine);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  auto check = [&](const std::string& keyring) {
    return run({kCatsign, "check-catalog", "--root", d.path().string(), tuple, "--keyring", keyring});
  };
  for (const char* name : {"catalog-2026", "catalog-2027"}) {
    RunResult c = check(cert(name));
    EXPECT_EQ(c.exit_code, 0) << name << ": " << c.out << c.err;
  }
  RunResult neither = check(cert("catalog-other"));
  EXPECT_NE(neither.exit_code, 0) << neither.out;
  EXPECT_NE((neither.out + neither.err).find("not in the keyring"), std::string::npos) << neither.out << neither.err;

  // A good signature by the old key beside a bad one by the new: the signature the new key
  // made over other bytes.
  write_text(d / "other", "other bytes");
  ASSERT_EQ(catsign({"sign", "--config", config(), "--key", "catalog-2027", "--pin-fd", "3", (d / "other").string()},
                    &kPinLine)
                .exit_code,
            0);
  ASSERT_EQ(catsign({"sign", "--config", config(), "--key", "catalog-2026", "--pin-fd", "3", "--output",
                     (d / "good.asc").string(), (dir / file).string()},
                    &kPinLine)
                .exit_code,
            0);
  write_text(dir / (file + ".asc"), dearmor(d / "good.asc") + dearmor(d / "other.asc"));
  write_text(d / "both.gpg", dearmor(cert("catalog-2026")) + dearmor(cert("catalog-2027")));
  RunResult bad = check((d / "both.gpg").string());
  EXPECT_NE(bad.exit_code, 0) << bad.out;
  EXPECT_NE((bad.out + bad.err).find("bad_signature"), std::string::npos) << bad.out << bad.err;
  // Knowing only the old key, the new key's signature is just unknown.
  RunResult old_only = check(cert("catalog-2026"));
  EXPECT_EQ(old_only.exit_code, 0) << old_only.out << old_only.err;
}


}  // namespace
}  // namespace catsign
