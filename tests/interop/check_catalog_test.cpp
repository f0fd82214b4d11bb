// SPDX-License-Identifier: Apache-2.0
// catsign check-catalog end to end on an OpenCSW-style tree whose package signatures gpg made
// (another implementation): all pass, then one fault at a time, each named in the human and
// the JSON report with its status; the real 2,146-line catalog with no packages present.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>

#include "../support/cli.hpp"
#include "../support/process.hpp"

namespace catsign {
namespace {

namespace fs = std::filesystem;
using namespace testing;

const std::string kTuple = "unstable/sparc/5.10";

struct Package {
  std::string catalogname;
  std::string version;
  std::string deps;
  std::string category;
  std::string file() const { return catalogname + "-" + version + "-SunOS5.10-sparc-CSW.pkg.gz"; }
  std::string pkgname() const { return "CSW" + catalogname; }
};

const std::vector<Package> kPackages = {
    {"bash", "4.2.45,REV=2013.09.24", "CSWcommon|CSWlibintl8|CSWlibiconv2", "shells"},
    {"coreutils", "8.21,REV=2013.04.10", "CSWcommon|CSWlibgmp10", "utils"},
    {"curl", "7.35.0,REV=2014.01.29", "CSWlibcurl4|CSWlibssl1-0-0", "net"},
    {"gawk", "4.1.0,REV=2013.05.10", "CSWcommon", "utils"},
    {"gsed", "4.2.2,REV=2012.12.24", "none", "utils"},
    {"less", "458,REV=2013.04.21", "CSWlibncurses5", "utils"},
    {"libiconv2", "1.14,REV=2011.08.07", "none", "lib"},
    {"libintl8", "0.18.1.1,p,REV=2011.08.07", "CSWlibiconv2", "lib"},
    {"openssl_utils", "1.0.1f,REV=2014.01.07", "CSWlibssl1-0-0", "security"},
    {"pkgutil", "2.6.6,REV=2013.05.22", "CSWwget", "utils"},
    {"wget", "1.15,REV=2014.01.22", "CSWlibssl1-0-0|CSWlibidn11", "net"},
    {"zsh", "5.0.5,REV=2014.01.31", "CSWlibncurses5|CSWlibiconv2", "shells"},
};

class CheckCatalog : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    fs::create_directories(home());
    fs::permissions(home(), fs::perms::owner_all);
    packager_ = generate("Packager <packages@example.org>");
    stranger_ = generate("Stranger <stranger@example.org>");
    write_text(*dir_ / "keyring.asc", gpg({"--armor", "--export", packager_}).out);

    // The revoked keyring: the packager's certificate with gpg's revocation merged in, as a
    // second home that imported both exports it.
    std::string rev = read_text(home() / "openpgp-revocs.d" / (packager_ + ".rev"));
    rev = rev.substr(rev.find(":-----BEGIN") + 1);
    write_text(*dir_ / "revocation.asc", rev);
    const fs::path other_home = *dir_ / "verifier-home";
    fs::create_directories(other_home);
    fs::permissions(other_home, fs::perms::owner_all);
    ASSERT_EQ(gpg({"--import", (*dir_ / "keyring.asc").string()}, other_home).exit_code, 0);
    RunResult imported = gpg({"--import", (*dir_ / "revocation.asc").string()}, other_home);
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    write_text(*dir_ / "revoked-keyring.asc", gpg({"--armor", "--export", packager_}, other_home).out);
    run({"gpgconf", "--homedir", other_home.string(), "--kill", "gpg-agent"});

    // A keyring of two certificates where the signer is the second.
    write_text(*dir_ / "two-keyring.asc", gpg({"--armor", "--export", stranger_}).out +
                                              gpg({"--armor", "--export", packager_}).out);
    write_text(*dir_ / "stranger-keyring.asc", gpg({"--armor", "--export", stranger_}).out);

    // The tree: packages in allpkgs for half, linked from the catalog's folder as mirrors do.
    fs::create_directories(root() / kTuple);
    fs::create_directories(root() / "allpkgs");
    std::mt19937 rng(2026);
    std::string catalog = "# CREATIONDATE 2026-01-01T00:00:00Z\n";
    for (std::size_t i = 0; i < kPackages.size(); ++i) {
      const Package& p = kPackages[i];
      std::string data(1000 + rng() % 50000, '\0');
      for (char& c : data) c = static_cast<char>(rng() & 0xff);
      if (i % 2 == 0) {
        write_text(root() / "allpkgs" / p.file(), data);
        fs::create_symlink("../../../allpkgs/" + p.file(), root() / kTuple / p.file());
      } else {
        write_text(root() / kTuple / p.file(), data);
      }
      RunResult s = gpg({"--yes", "--local-user", packager_, "--detach-sign", "--armor", "--output",
                         (root() / kTuple / (p.file() + ".asc")).string(), (root() / kTuple / p.file()).string()});
      ASSERT_EQ(s.exit_code, 0) << s.err;
      catalog += p.catalogname + " " + p.version + " " + p.pkgname() + " " + p.file() + " " + md5_hex(data) + " " +
                 std::to_string(data.size()) + " " + p.deps + " " + p.category + " none\n";
    }
    write_text(root() / kTuple / "catalog", catalog);
  }

  static void TearDownTestSuite() {
    run({"gpgconf", "--homedir", home().string(), "--kill", "gpg-agent"});
    delete dir_;
  }

  static fs::path home() { return *dir_ / "gnupg"; }
  static fs::path root() { return *dir_ / "mirror"; }
  static fs::path in_tuple(const std::string& name) { return root() / kTuple / name; }

  static RunResult run(const std::vector<std::string>& argv) { return testing::run(argv); }
  static RunResult gpg(const std::vector<std::string>& args, const fs::path& home_dir = home()) {
    std::vector<std::string> argv = {"gpg", "--batch", "--no-tty", "--homedir", home_dir.string(),
                                     "--passphrase", "", "--pinentry-mode", "loopback"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run(argv);
  }
  static std::string generate(const std::string& uid) {
    RunResult r = gpg({"--quick-gen-key", uid, "rsa2048", "sign", "never"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    RunResult list = gpg({"--with-colons", "--fingerprint", uid});
    const std::size_t at = list.out.find("\nfpr:");
    const std::size_t start = list.out.find_first_not_of(':', at + 5);
    return list.out.substr(start, list.out.find(':', start) - start);
  }

  static RunResult check(const std::string& keyring = "keyring.asc", bool json = false,
                         const std::string& tuple = kTuple) {
    std::vector<std::string> argv = {kCatsign, "check-catalog", "--root", root().string(), tuple,
                                     "--keyring", (*dir_ / keyring).string()};
    if (json) argv.push_back("--json");
    return run(argv);
  }

  // Runs the check in both forms and expects exactly `file` to fail with `status`.
  static void expect_only(const std::string& file, const std::string& status,
                          const std::string& keyring = "keyring.asc") {
    RunResult human = check(keyring);
    EXPECT_EQ(human.exit_code, 5) << human.out << human.err;
    EXPECT_NE(human.out.find(file + ": " + status + ": "), std::string::npos) << human.out;
    EXPECT_NE(human.out.find(kTuple + ": 1 of 12 packages fail: " + file + " (" + status + ")"), std::string::npos)
        << human.out;
    EXPECT_NE(human.err.find("1 of 12 packages fail the gate"), std::string::npos) << human.err;
    EXPECT_EQ(std::count(human.err.begin(), human.err.end(), '\n'), 1) << human.err;  // one line, no progress

    RunResult json = check(keyring, true);
    EXPECT_EQ(json.exit_code, 5) << json.err;
    const nlohmann::json j = nlohmann::json::parse(json.out);
    EXPECT_EQ(j["ok"], false);
    ASSERT_EQ(j["packages"].size(), 12u);
    for (std::size_t i = 0; i < kPackages.size(); ++i) {
      const auto& p = j["packages"][i];
      EXPECT_EQ(p["file"], kPackages[i].file());
      EXPECT_EQ(p["line"], i + 2);  // after the CREATIONDATE header
      EXPECT_EQ(p["status"], p["file"] == file ? status : "ok") << p.dump();
      EXPECT_TRUE(p["detail"].is_string());
    }
  }

  static inline TempDir* dir_ = nullptr;
  static inline std::string packager_;
  static inline std::string stranger_;
};

TEST_F(CheckCatalog, GpgVerifiesEveryPackageSignature) {
  const fs::path verify_home = *dir_ / "gpg-verify";
  fs::create_directories(verify_home);
  fs::permissions(verify_home, fs::perms::owner_all);
  ASSERT_EQ(gpg({"--import", (*dir_ / "keyring.asc").string()}, verify_home).exit_code, 0);
  for (const Package& p : kPackages) {
    RunResult v = gpg({"--status-fd", "1", "--verify", in_tuple(p.file() + ".asc").string(), in_tuple(p.file()).string()},
                      verify_home);
    EXPECT_EQ(v.exit_code, 0) << p.file() << v.err;
    EXPECT_NE(v.out.find("[GNUPG:] GOODSIG"), std::string::npos);
  }
  run({"gpgconf", "--homedir", verify_home.string(), "--kill", "gpg-agent"});
}

TEST_F(CheckCatalog, AllPass) {
  RunResult human = check();
  EXPECT_EQ(human.exit_code, 0) << human.out << human.err;
  EXPECT_EQ(human.out, kTuple + ": all 12 packages pass\n");
  EXPECT_EQ(human.err, "");
  RunResult json = check("keyring.asc", true);
  EXPECT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["ok"], true);
  ASSERT_EQ(j["packages"].size(), 12u);
  for (const auto& p : j["packages"]) EXPECT_EQ(p["status"], "ok") << p.dump();
}

TEST_F(CheckCatalog, SignerIsTheSecondCertificateOfTheKeyring) {
  RunResult r = check("two-keyring.asc");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(CheckCatalog, FlippedByteIsMd5Mismatch) {
  const Package& p = kPackages[0];  // in allpkgs, through the link
  const fs::path target = root() / "allpkgs" / p.file();
  const std::string original = read_text(target);
  std::string changed = original;
  changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 0x04);
  write_text(target, changed);
  expect_only(p.file(), "md5_mismatch");
  write_text(target, original);
}

TEST_F(CheckCatalog, MissingFile) {
  const Package& p = kPackages[4];  // a link into allpkgs whose target is gone
  const fs::path target = root() / "allpkgs" / p.file();
  fs::rename(target, *dir_ / "aside");
  expect_only(p.file(), "missing");
  fs::rename(*dir_ / "aside", target);
}

TEST_F(CheckCatalog, MissingSignatureIsUnsigned) {
  const Package& p = kPackages[5];
  fs::rename(in_tuple(p.file() + ".asc"), *dir_ / "aside.asc");
  expect_only(p.file(), "unsigned");
  fs::rename(*dir_ / "aside.asc", in_tuple(p.file() + ".asc"));
}

TEST_F(CheckCatalog, SignatureByAKeyNotInTheKeyring) {
  const Package& p = kPackages[7];
  const fs::path asc = in_tuple(p.file() + ".asc");
  fs::rename(asc, *dir_ / "aside.asc");
  RunResult s = gpg({"--yes", "--local-user", stranger_, "--detach-sign", "--armor", "--output", asc.string(),
                     in_tuple(p.file()).string()});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  expect_only(p.file(), "bad_signature");
  fs::rename(*dir_ / "aside.asc", asc);
}

TEST_F(CheckCatalog, RevokedKeyFailsEveryPackage) {
  for (const std::string& keyring : {std::string("revoked-keyring.asc"), std::string("keyring-and-revocation.asc")}) {
    if (keyring == "keyring-and-revocation.asc") {
      write_text(*dir_ / keyring, read_text(*dir_ / "keyring.asc") + read_text(*dir_ / "revocation.asc"));
    }
    RunResult human = check(keyring);
    EXPECT_EQ(human.exit_code, 5) << human.out << human.err;
    for (const Package& p : kPackages) {
      EXPECT_NE(human.out.find(p.file() + ": bad_signature: "), std::string::npos) << keyring << human.out;
    }
    EXPECT_NE(human.out.find("revoked"), std::string::npos) << human.out;
    EXPECT_NE(human.out.find("12 of 12 packages fail"), std::string::npos) << human.out;
    RunResult json = check(keyring, true);
    const nlohmann::json j = nlohmann::json::parse(json.out);
    EXPECT_EQ(j["ok"], false);
    for (const auto& p : j["packages"]) EXPECT_EQ(p["status"], "bad_signature") << p.dump();
  }
}

TEST_F(CheckCatalog, WrongSizeInTheCatalog) {
  const fs::path catalog = in_tuple("catalog");
  const std::string original = read_text(catalog);
  const Package& p = kPackages[10];
  // The size field follows the md5 (32 hex digits and a space) on the package's line.
  const std::size_t line = original.find(p.catalogname + " " + p.version);
  const std::size_t size_at = original.find(' ', original.find(p.file(), line) + p.file().size() + 1) + 1;
  std::string changed = original;
  changed.insert(size_at, "1");
  write_text(catalog, changed);
  expect_only(p.file(), "size_mismatch");
  write_text(catalog, original);
}

TEST_F(CheckCatalog, UsageAndInputErrors) {
  for (const char* tuple : {"../../etc", "unstable/sparc", "unstable/sparc/5.10/x", "a/../b", ""}) {
    RunResult r = check("keyring.asc", false, tuple);
    EXPECT_EQ(r.exit_code, 2) << tuple << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // A missing file is a usage error (the README's exit codes), as from every other command.
  RunResult no_keyring = check("no-such-keyring.asc");
  EXPECT_EQ(no_keyring.exit_code, 2) << no_keyring.err;
  RunResult no_catalog = check("keyring.asc", false, "kiel/i386/5.11");
  EXPECT_NE(no_catalog.exit_code, 0);
  EXPECT_NE(no_catalog.err.find("kiel/i386/5.11/catalog"), std::string::npos) << no_catalog.err;
  RunResult missing_option = run({kCatsign, "check-catalog", "--root", root().string(), kTuple});
  EXPECT_EQ(missing_option.exit_code, 2);

  // A malformed catalog names its line.
  const fs::path catalog = in_tuple("catalog");
  const std::string original = read_text(catalog);
  write_text(catalog, original + "broken line\n");
  RunResult bad = check();
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.err.find("catalog line 14: 2 fields"), std::string::npos) << bad.err;
  write_text(catalog, original);
}

TEST_F(CheckCatalog, RealCatalogWithNoPackagesIsAllMissing) {
  fs::create_directories(root() / "dublin/sparc/5.8");
  fs::copy_file(fs::path(CATSIGN_SOURCE_DIR) / "tests/data/opencsw/example-catalog.txt",
                root() / "dublin/sparc/5.8/catalog", fs::copy_options::overwrite_existing);
  const auto start = std::chrono::steady_clock::now();
  RunResult json = check("keyring.asc", true, "dublin/sparc/5.8");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(json.exit_code, 5) << json.err;
  const nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["ok"], false);
  ASSERT_EQ(j["packages"].size(), 2146u);
  for (const auto& p : j["packages"]) EXPECT_EQ(p["status"], "missing");
  EXPECT_EQ(j["packages"][0]["file"], "9menu-1.8,REV=2006.05.19-SunOS5.8-sparc-CSW.pkg.gz");
  EXPECT_LT(took, std::chrono::seconds(10));

  RunResult human = check("keyring.asc", false, "dublin/sparc/5.8");
  EXPECT_EQ(human.exit_code, 5);
  EXPECT_EQ(std::count(human.out.begin(), human.out.end(), '\n'), 2147);
  EXPECT_NE(human.out.find("2146 of 2146 packages fail"), std::string::npos);
}

}  // namespace
}  // namespace catsign
