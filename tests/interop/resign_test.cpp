// SPDX-License-Identifier: Apache-2.0
// catsign resign end to end on a throwaway SoftHSM token and a small OpenCSW-style tree
// (unstable/sparc/5.10, dublin/sparc/5.10, testing -> dublin, packages partly linked from
// allpkgs/): cleartext and detached forms verified by gpg, sqv and catsign verify
// --expect-catalog; a second run never wraps a catalog twice; the package gate skips a tuple
// with an unsigned package (exit 5, catalog untouched) unless --skip-package-check.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <random>

#include "../support/cli.hpp"
#include "catsign/openpgp/cleartext.hpp"
#include "../support/process.hpp"
#include "../token/softhsm_fixture.hpp"

namespace catsign {
namespace {

namespace fs = std::filesystem;
using namespace testing;


std::size_t count(const std::string& haystack, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

// The text between a cleartext message's header and its signature block.
std::string signed_text(const std::string& message) {
  std::size_t body = message.find("\n\n");
  std::size_t sig = message.find("-----BEGIN PGP SIGNATURE-----");
  if (body == std::string::npos || sig == std::string::npos) return "<not cleartext-signed>";
  return message.substr(body + 2, sig - body - 2);
}

class Resign : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    hsm_ = new SoftHsmToken();
    keys_ = new TempDir();
    fs::create_directories(*keys_ / "keys");
    write_text(*keys_ / "catsign.toml", keys_config());
    for (const char* key : {"catalog", "package"}) {
      RunResult r = catsign({"keygen", "--config", (*keys_ / "catsign.toml").string(), "--key", key, "--bits", "2048",
                             "--uid", std::string(key) + " test <" + key + "@example.org>", "--pin-fd", "3"},
                            &kPinLine);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    gpg_ = new GpgHome(catalog_cert());
  }
  static void TearDownTestSuite() {
    delete gpg_;
    delete keys_;
    delete hsm_;
  }

  static std::string keys_config() {
    const std::string k = (*keys_ / "keys").string();
    return "[token]\nmodule = \"" + SoftHsmToken::module_path() +
           "\"\n\n"
           "[keys.catalog]\nuri = \"pkcs11:token=catsign;object=catalog-test\"\n"
           "certificate = \"" + k + "/catalog.asc\"\nrevocation = \"" + k + "/catalog.rev.asc\"\n\n"
           "[keys.package]\nuri = \"pkcs11:token=catsign;object=package-test\"\n"
           "certificate = \"" + k + "/package.asc\"\nrevocation = \"" + k + "/package.rev.asc\"\n\n"
           "[packages]\nkey = \"package\"\n";
  }
  static std::string catalog_cert() { return (*keys_ / "keys/catalog.asc").string(); }
  static std::string package_cert() { return (*keys_ / "keys/package.asc").string(); }

  static RunResult catsign(std::vector<std::string> args, const std::string* pin = nullptr) {
    args.insert(args.begin(), kCatsign);
    return testing::run(args, "", {{"SOFTHSM2_CONF", hsm_->conf_path()}}, pin);
  }

  // The tree: unstable/sparc/5.10 (three packages, two of them links into allpkgs/),
  // dublin/sparc/5.10 (two packages), testing -> dublin. Every package signed by the package key.
  void SetUp() override {
    std::mt19937 rng(7);
    auto make_tuple = [&](const std::string& tuple, const std::vector<std::string>& names, bool via_allpkgs) {
      fs::create_directories(tree() / tuple);
      std::string catalog = "# CREATIONDATE 2026-01-01T00:00:00Z\n";
      for (const std::string& name : names) {
        std::string data(1000 + rng() % 20000, '\0');
        for (char& c : data) c = static_cast<char>(rng());
        const std::string file = name + "-1.0,REV=2026.01.01-SunOS5.10-sparc-CSW.pkg.gz";
        if (via_allpkgs && name != names.front()) {
          fs::create_directories(tree() / "allpkgs");
          write_text(tree() / "allpkgs" / file, data);
          fs::create_symlink("../../../allpkgs/" + file, tree() / tuple / file);
        } else {
          write_text(tree() / tuple / file, data);
        }
        packages_.push_back((tree() / tuple / file).string());
        catalog += name + " 1.0,REV=2026.01.01 CSW" + name + " " + file + " " + md5_hex(data) + " " +
                   std::to_string(data.size()) + " CSWcommon " + "utils none\n";
      }
      write_text(tree() / tuple / "catalog", catalog);
      ::chmod((tree() / tuple / "catalog").c_str(), 0640);
    };
    make_tuple("unstable/sparc/5.10", {"bash", "curl", "wget"}, true);
    make_tuple("dublin/sparc/5.10", {"gawk", "gsed"}, false);
    fs::create_directory_symlink("dublin", tree() / "testing");
    std::vector<std::string> args = {"sign-packages", "--config", (*keys_ / "catsign.toml").string(), "--pin-fd", "3"};
    args.insert(args.end(), packages_.begin(), packages_.end());
    RunResult r = catsign(args, &kPinLine);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    unstable_ = read_text(tree() / "unstable/sparc/5.10/catalog");
    dublin_ = read_text(tree() / "dublin/sparc/5.10/catalog");
  }

  fs::path tree() const { return work_ / "mirror"; }

  std::string write_config(const std::string& form, bool gate) {
    const fs::path path = work_ / ("resign-" + form + (gate ? "-gate" : "") + ".toml");
    write_text(path, keys_config() + "\n[catalogs]\nroot = \"" + tree().string() +
                         "\"\nreleases = [\"unstable\", \"testing\", \"dublin\"]\narches = [\"sparc\", \"i386\"]\n"
                         "osrels = [\"5.9\", \"5.10\"]\nkey = \"catalog\"\nresign_form = \"" + form +
                         "\"\nrequire_package_signatures = " + (gate ? "true" : "false") +
                         "\npackage_keyring = \"" + package_cert() + "\"\n");
    return path.string();
  }

  void expect_cleartext_good(const std::string& tuple, const std::string& expect_catalog, const std::string& text) {
    const fs::path catalog = tree() / tuple / "catalog";
    const std::string signed_catalog = read_text(catalog);
    EXPECT_EQ(signed_catalog.rfind(std::string(openpgp::kCleartextBegin) + "\nHash: SHA256\n\n", 0), 0u) << tuple;
    EXPECT_EQ(count(signed_catalog, openpgp::kCleartextBegin), 1u) << tuple << " wrapped twice:\n" << signed_catalog;
    EXPECT_EQ(signed_text(signed_catalog), text) << tuple;
    RunResult g = gpg_->verify({catalog.string()});
    EXPECT_EQ(g.exit_code, 0) << tuple << "\n" << g.err;
    EXPECT_NE(g.out.find("[GNUPG:] GOODSIG"), std::string::npos) << g.out;
    EXPECT_NE(g.out.find("[GNUPG:] NOTATION_NAME catalog@catsign"), std::string::npos) << g.out;
    RunResult c = catsign({"verify", "--cert", catalog_cert(), "--expect-catalog", expect_catalog, catalog.string()});
    EXPECT_EQ(c.exit_code, 0) << tuple << "\n" << c.err;
  }

  TempDir work_;
  std::vector<std::string> packages_;
  std::string unstable_;
  std::string dublin_;
  static inline SoftHsmToken* hsm_ = nullptr;
  static inline TempDir* keys_ = nullptr;
  static inline GpgHome* gpg_ = nullptr;
};

TEST_F(Resign, CleartextFormSignsEveryCatalogAndASecondRunNeverWrapsTwice) {
  const std::string config = write_config("cleartext", true);
  RunResult r = catsign({"resign", "--config", config, "--all", "--pin-fd", "3"}, &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // --all found the three present tuples (i386 and 5.9 are configured but absent); testing and
  // dublin are one file, signed once.
  EXPECT_NE(r.out.find("re-signed unstable/sparc/5.10 (cleartext"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("re-signed testing/sparc/5.10, dublin/sparc/5.10 (cleartext"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 catalogs re-signed, 0 refused by the package gate, 0 failed"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_symlink(tree() / "testing"));
  EXPECT_EQ(fs::status(tree() / "unstable/sparc/5.10/catalog").permissions(),
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);

  expect_cleartext_good("unstable/sparc/5.10", "unstable/sparc/5.10", unstable_);
  expect_cleartext_good("dublin/sparc/5.10", "dublin/sparc/5.10", dublin_);
  expect_cleartext_good("testing/sparc/5.10", "dublin/sparc/5.10", dublin_);  // the same file
  // The notation names the other tuple too (gpg shows it); --expect-catalog reads the file's own.
  RunResult g = gpg_->verify({(tree() / "testing/sparc/5.10/catalog").string()});
  EXPECT_NE(g.out.find("NOTATION_DATA testing/sparc/5.10"), std::string::npos) << g.out;
  // A signature for one tuple is refused for another.
  RunResult c = catsign({"verify", "--cert", catalog_cert(), "--expect-catalog", "dublin/sparc/5.10",
                         (tree() / "unstable/sparc/5.10/catalog").string()});
  EXPECT_NE(c.exit_code, 0);

  // Again, on the signed tree: re-signed from the text, never wrapped twice.
  r = catsign({"resign", "--config", config, "--all", "--pin-fd", "3"}, &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("re-signed from its signed text"), std::string::npos) << r.out;
  expect_cleartext_good("unstable/sparc/5.10", "unstable/sparc/5.10", unstable_);
  expect_cleartext_good("dublin/sparc/5.10", "dublin/sparc/5.10", dublin_);
  // And the catalog parser still reads it (check-catalog through the framing).
  RunResult check = catsign({"check-catalog", "--root", tree().string(), "unstable/sparc/5.10", "--keyring", package_cert()});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(Resign, DetachedFormWritesCatalogAscBesideThePlainCatalog) {
  const std::string config = write_config("detached", true);
  RunResult r = catsign({"resign", "--config", config, "unstable/sparc/5.10", "dublin/sparc/5.10", "--pin-fd", "3"}, &kPinLine);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("2 catalogs re-signed"), std::string::npos) << r.out;
  for (const auto& [tuple, text] : {std::pair{std::string("unstable/sparc/5.10"), unstable_},
                                    std::pair{std::string("dublin/sparc/5.10"), dublin_}}) {
    const fs::path catalog = tree() / tuple / "catalog";
    EXPECT_EQ(read_text(catalog), text) << "the catalog itself is untouched";
    RunResult s = testing::run({"sqv", "--keyring", catalog_cert(), catalog.string() + ".asc", catalog.string()});
    EXPECT_EQ(s.exit_code, 0) << tuple << "\n" << s.err;
    RunResult g = gpg_->verify({catalog.string() + ".asc", catalog.string()});
    EXPECT_NE(g.out.find("[GNUPG:] GOODSIG"), std::string::npos) << g.out;
    RunResult c = catsign({"verify", "--cert", catalog_cert(), "--expect-catalog", tuple, catalog.string() + ".asc",
                           catalog.string()});
    EXPECT_EQ(c.exit_code, 0) << tuple << "\n" << c.err;
  }
  EXPECT_TRUE(fs::is_regular_file(tree() / "testing/sparc/5.10/catalog.asc"));

  // A cleartext-signed catalog is not unwrapped by the detached form: skipped, said why, exit 1.
  ASSERT_EQ(catsign({"resign", "--config", write_config("cleartext", false), "unstable/sparc/5.10", "--pin-fd", "3"}, &kPinLine)
                .exit_code,
            0);
  const std::string wrapped = read_text(tree() / "unstable/sparc/5.10/catalog");
  r = catsign({"resign", "--config", config, "--all", "--pin-fd", "3"}, &kPinLine);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("skipped unstable/sparc/5.10: the catalog is cleartext-signed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unwrap it"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("re-signed testing/sparc/5.10, dublin/sparc/5.10"), std::string::npos) << r.out;
  EXPECT_EQ(read_text(tree() / "unstable/sparc/5.10/catalog"), wrapped);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(Resign, PackageGateSkipsATupleWithAnUnsignedPackageUnlessSkipped) {
  const std::string config = write_config("cleartext", true);
  // One package in unstable loses its signature (a link into allpkgs/: its .asc is beside the link).
  const fs::path victim = packages_[1];
  ASSERT_TRUE(fs::is_symlink(victim));
  fs::remove(victim.string() + ".asc");

  RunResult r = catsign({"resign", "--config", config, "--all", "--pin-fd", "3"}, &kPinLine);
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_NE(r.out.find("skipped unstable/sparc/5.10: package gate"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(victim.filename().string() + " (unsigned)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 catalogs re-signed, 1 refused by the package gate, 0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("1 of 3 catalogs not re-signed"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_NE(r.out.find("unstable/sparc/5.10: " + victim.filename().string() + ": unsigned:"), std::string::npos) << r.out;
  EXPECT_EQ(read_text(tree() / "unstable/sparc/5.10/catalog"), unstable_) << "the refused catalog is untouched";
  expect_cleartext_good("dublin/sparc/5.10", "dublin/sparc/5.10", dublin_);

  // The emergency override signs it anyway.
  r = catsign({"resign", "--config", config, "unstable/sparc/5.10", "--skip-package-check", "--pin-fd", "3"}, &kPinLine);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("package gate skipped (--skip-package-check)"), std::string::npos) << r.out;
  expect_cleartext_good("unstable/sparc/5.10", "unstable/sparc/5.10", unstable_);
}

TEST_F(Resign, UsageErrorsSignNothingAndAskForNoPin) {
  const std::string config = write_config("cleartext", true);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"resign", "--config", config},                                   // neither --all nor a tuple
           {"resign", "--config", config, "--all", "unstable/sparc/5.10"},   // both
           {"resign", "--config", config, "stable/sparc/5.10"},              // not configured
           {"resign", "--config", config, "unstable/sparc/../5.10"},         // malformed
       }) {
    RunResult r = catsign(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << "\n" << r.out << r.err;
    EXPECT_EQ(r.err.find("PIN"), std::string::npos) << r.err;
  }
  EXPECT_EQ(read_text(tree() / "unstable/sparc/5.10/catalog"), unstable_);
  EXPECT_EQ(read_text(tree() / "dublin/sparc/5.10/catalog"), dublin_);

  // A configured tuple whose catalog is absent, asked for by name: reported, exit 1, the others signed.
  RunResult r = catsign({"resign", "--config", config, "unstable/i386/5.10", "dublin/sparc/5.10", "--pin-fd", "3"}, &kPinLine);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("skipped unstable/i386/5.10:"), std::string::npos) << r.out;
  expect_cleartext_good("dublin/sparc/5.10", "dublin/sparc/5.10", dublin_);
}

}  // namespace
}  // namespace catsign
