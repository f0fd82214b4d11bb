// SPDX-License-Identifier: Apache-2.0
// catsign sign-packages end to end on a throwaway SoftHSM token: a "package" key made by
// catsign keygen, a dozen generated packages signed with one PIN entry, every FILE.asc
// verified by gpg and sqv; inputs refused before any PIN prompt.
#include <gtest/gtest.h>

#include <random>

#include "../support/cli.hpp"
#include "../support/process.hpp"
#include "../token/softhsm_fixture.hpp"

namespace catsign {
namespace {

namespace fs = std::filesystem;
using namespace testing;


std::string config_text(const std::string& module) {
  return "[token]\nmodule = \"" + module +
         "\"\n\n"
         "[keys.catalog]\nuri = \"pkcs11:token=catsign;object=catalog-test\"\n"
         "certificate = \"keys/catalog.asc\"\nrevocation = \"keys/catalog.rev.asc\"\n\n"
         "[keys.package]\nuri = \"pkcs11:token=catsign;object=package-test\"\n"
         "certificate = \"keys/package.asc\"\nrevocation = \"keys/package.rev.asc\"\n\n"
         "[catalogs]\nkey = \"catalog\"\n\n"
         "[packages]\nsuffixes = [\".pkg.gz\", \".pkg\"]\nkey = \"package\"\n";
}

class SignPackages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    hsm_ = new SoftHsmToken();
    dir_ = new TempDir();
    fs::create_directories(*dir_ / "keys");
    write_text(config(), config_text(SoftHsmToken::module_path()));
    RunResult r = catsign({"keygen", "--config", config(), "--key", "package", "--bits", "2048", "--uid",
                           "Packages Test <packages@example.org>", "--pin-fd", "3"},
                          &kPinLine);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fingerprint_ = r.out.substr(r.out.find("fingerprint") + 13, 40);
    gpg_ = new GpgHome(cert());
  }
  static void TearDownTestSuite() {
    delete gpg_;
    delete dir_;
    delete hsm_;
  }

  static std::string config() { return (*dir_ / "catsign.toml").string(); }
  static std::string cert() { return (*dir_ / "keys/package.asc").string(); }

  static RunResult catsign(std::vector<std::string> args, const std::string* pin = nullptr) {
    args.insert(args.begin(), kCatsign);
    return testing::run(args, "", {{"SOFTHSM2_CONF", hsm_->conf_path()}}, pin);
  }

  // `n` packages of assorted sizes (empty, small, a few hundred KiB) with OpenCSW-style names.
  static std::vector<std::string> make_packages(const TempDir& d, int n) {
    std::mt19937 rng(42);
    std::vector<std::string> files;
    for (int i = 0; i < n; ++i) {
      const std::size_t size = i == 0 ? 0 : (rng() % (i % 3 == 0 ? 400000 : 5000));
      std::string data(size, '\0');
      for (char& c : data) c = static_cast<char>(rng());
      const std::string name = "pkg" + std::to_string(i) + "-1.0,REV=2026.01.0" + std::to_string(i % 10) +
                               "-SunOS5.10-sparc-CSW" + (i % 4 == 3 ? ".pkg" : ".pkg.gz");
      write_text(d / name, data);
      files.push_back((d / name).string());
    }
    return files;
  }

  static inline SoftHsmToken* hsm_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline GpgHome* gpg_ = nullptr;
  static inline std::string fingerprint_;
};

TEST_F(SignPackages, TwelvePackagesOneLoginEverySignatureVerifiesInGpgAndSqv) {
  TempDir d;
  std::vector<std::string> files = make_packages(d, 12);
  std::vector<std::string> args = {"sign-packages", "--config", config(), "--pin-fd", "3"};
  args.insert(args.end(), files.begin(), files.end());
  RunResult r = catsign(args, &kPinLine);  // no --key: [packages] key
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("signed 12 packages with key " + fingerprint_), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("signed 1/12"), std::string::npos) << "no progress when stderr is not a terminal: " << r.err;

  for (const std::string& f : files) {
    const std::string asc = f + ".asc";
    ASSERT_TRUE(fs::is_regular_file(asc)) << asc;
    EXPECT_EQ(read_text(asc).rfind("-----BEGIN PGP SIGNATURE-----\n", 0), 0u) << asc;
    RunResult g = gpg_->verify({asc, f});
    EXPECT_EQ(g.exit_code, 0) << f << "\n" << g.err;
    EXPECT_NE(g.out.find("[GNUPG:] GOODSIG"), std::string::npos) << g.out;
    EXPECT_NE(g.out.find("[GNUPG:] VALIDSIG " + fingerprint_), std::string::npos) << g.out;
    EXPECT_NE(g.out.find(" 1 8 00 "), std::string::npos) << "RSA, SHA-256, binary document: " << g.out;
    RunResult s = testing::run({"sqv", "--keyring", cert(), asc, f});
    EXPECT_EQ(s.exit_code, 0) << f << "\n" << s.err;
  }
  // Nothing else was left beside the packages (no temporary files).
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.path())) ++entries;
  EXPECT_EQ(entries, 24u);

  // A changed byte in one package: its signature no longer verifies.
  std::string data = read_text(files[5]);
  ASSERT_FALSE(data.empty());
  data[data.size() / 2] = static_cast<char>(data[data.size() / 2] ^ 1);
  write_text(files[5], data);
  EXPECT_NE(testing::run({"sqv", "--keyring", cert(), files[5] + ".asc", files[5]}).exit_code, 0);
  EXPECT_NE(gpg_->verify({files[5] + ".asc", files[5]}).exit_code, 0);
}

TEST_F(SignPackages, WrongSuffixIsRefusedBeforeAnyPinPrompt) {
  TempDir d;
  std::vector<std::string> files = make_packages(d, 2);
  write_text(d / "README.txt", "not a package\n");
  write_text(d / "pkg.tar.gz", "not a package either\n");
  // No --pin-fd and no terminal: reaching the PIN prompt would fail with a PIN message.
  RunResult r = catsign({"sign-packages", "--config", config(), files[0], (d / "README.txt").string(), files[1],
                         (d / "pkg.tar.gz").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("README.txt does not end in a package suffix (.pkg.gz, .pkg"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 more refused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was signed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("PIN"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  for (const std::string& f : files) EXPECT_FALSE(fs::exists(f + ".asc")) << f;

  // The token is not even opened: a config whose module does not exist gives the same refusal.
  TempDir c;
  fs::create_directories(c / "keys");
  fs::copy_file(cert(), c / "keys/package.asc");
  write_text(c / "catsign.toml", config_text("/nonexistent/libpkcs11.so"));
  r = catsign({"sign-packages", "--config", (c / "catsign.toml").string(), "--pin-fd", "3",
               (d / "README.txt").string()},
              &kPinLine);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("does not end in a package suffix"), std::string::npos) << r.err;
}

TEST_F(SignPackages, MissingFileOrFolderIsRefusedAndNothingIsSigned) {
  TempDir d;
  std::vector<std::string> files = make_packages(d, 3);
  const std::string missing = (d / "gone-1.0-SunOS5.10-sparc-CSW.pkg.gz").string();
  RunResult r = catsign({"sign-packages", "--config", config(), files[0], missing, files[1]});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(missing + " does not exist"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("PIN"), std::string::npos) << r.err;
  for (const std::string& f : files) EXPECT_FALSE(fs::exists(f + ".asc")) << f;

  fs::create_directories(d / "folder.pkg");
  r = catsign({"sign-packages", "--config", config(), (d / "folder.pkg").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("folder.pkg is not a regular file"), std::string::npos) << r.err;

  // A key name the config does not have is a usage error too, before the PIN.
  r = catsign({"sign-packages", "--config", config(), "--key", "nosuch", files[0]});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.find("PIN"), std::string::npos) << r.err;
}

TEST_F(SignPackages, ExplicitKeyAndASecondRunReplacesTheSignatureAtomically) {
  TempDir d;
  std::vector<std::string> files = make_packages(d, 2);
  ASSERT_EQ(catsign({"sign-packages", "--config", config(), "--key", "package", "--pin-fd", "3", files[1]}, &kPinLine).exit_code, 0);
  RunResult r = catsign({"sign-packages", "--config", config(), "--pin-fd", "3", files[1]}, &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("signed 1 package with key"), std::string::npos) << r.out;
  EXPECT_EQ(testing::run({"sqv", "--keyring", cert(), files[1] + ".asc", files[1]}).exit_code, 0);
}

}  // namespace
}  // namespace catsign
