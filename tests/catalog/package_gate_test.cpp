// SPDX-License-Identifier: Apache-2.0
#include "catsign/catalog/package_gate.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <random>

#include "../openpgp/gpg_vectors.hpp"
#include "../support/cli.hpp"
#include "../support/process.hpp"
#include "catsign/error.hpp"

namespace catsign::catalog {
namespace {

namespace fs = std::filesystem;
using namespace catsign::testing;

const std::string kDir = "unstable/sparc/5.10";

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// A small tree: packages beneath root/unstable/sparc/5.10, one of them a relative link into
// root/allpkgs, each with a FILE.asc that gpg made with the test key.
class PackageGate : public ::testing::Test {
 protected:
  struct Package {
    std::string name;
    std::string data;
    std::vector<std::string> gpg_args;  // how gpg signs it
  };

  void SetUp() override {
    fs::create_directories(root() / kDir);
    fs::create_directories(root() / "allpkgs");
    packages_ = {
        {"bash", random_bytes(70000, 1), {"--detach-sign", "--armor"}},
        {"coreutils", random_bytes(300000, 2), {"--detach-sign"}},  // binary .asc content
        {"less", "text\nwith lines\r\nand CR LF\n", {"--detach-sign", "--armor", "--textmode"}},
        {"zsh", random_bytes(1234, 3), {"--detach-sign", "--armor", "--digest-algo", "SHA512"}},
        {"empty", "", {"--detach-sign", "--armor"}},
        {"linked", random_bytes(5000, 4), {"--detach-sign", "--armor"}},
    };
    std::string catalog;
    for (const Package& p : packages_) {
      const std::string file = p.name + "-1.0,REV=2026.01.01-SunOS5.10-sparc-CSW.pkg.gz";
      const fs::path where = p.name == "linked" ? root() / "allpkgs" / file : root() / kDir / file;
      write_text(where, p.data);
      if (p.name == "linked") fs::create_symlink("../../../allpkgs/" + file, root() / kDir / file);
      write_text(root() / kDir / (file + ".asc"), sign(p.data, p.gpg_args));
      catalog += p.name + " 1.0,REV=2026.01.01 CSW" + p.name + " " + file + " " + md5_hex(p.data) + " " +
                 std::to_string(p.data.size()) + " none utils none\n";
    }
    catalog_ = parse_opencsw_catalog(catalog);
    keyring_ = read_package_keyring(to_bytes(GpgVectors::get().cert_armored));
  }

  static std::string sign(const std::string& data, std::vector<std::string> args,
                          const std::string& fingerprint = GpgVectors::get().fingerprint) {
    GpgVectors& gpg = GpgVectors::get();
    const fs::path in = gpg.write("package.bin", data);
    const fs::path out = gpg.dir() / "package.sig";
    args.insert(args.begin(), {"--yes", "--local-user", fingerprint});
    args.insert(args.end(), {"--output", out.string(), in.string()});
    const auto r = gpg.gpg(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return read_text(out);
  }

  fs::path root() const { return dir_ / "root"; }
  fs::path file_path(std::size_t i) const { return root() / kDir / catalog_.entries[i].file; }

  GateReport check(unsigned threads = 0, const std::vector<openpgp::Certificate>* keyring = nullptr) const {
    const Root r(root(), "package");
    GateOptions options;
    options.threads = threads;
    return check_packages(catalog_, r, kDir, keyring ? *keyring : keyring_, options);
  }

  // The one failing package and its status; every other package passes.
  void expect_only(std::size_t index, PackageStatus status, const std::string& detail_part,
                   const std::vector<openpgp::Certificate>* keyring = nullptr) const {
    const GateReport report = check(0, keyring);
    ASSERT_EQ(report.packages.size(), catalog_.entries.size());
    EXPECT_FALSE(report.ok());
    EXPECT_EQ(report.failures(), 1u) << report.summary();
    for (std::size_t i = 0; i < report.packages.size(); ++i) {
      const PackageResult& p = report.packages[i];
      EXPECT_EQ(p.file, catalog_.entries[i].file);
      EXPECT_EQ(p.line, catalog_.entries[i].line);
      if (i == index) {
        EXPECT_EQ(p.status, status) << package_status_name(p.status) << ": " << p.detail;
        EXPECT_NE(p.detail.find(detail_part), std::string::npos) << p.detail;
      } else {
        EXPECT_EQ(p.status, PackageStatus::ok) << p.file << ": " << p.detail;
      }
    }
    EXPECT_NE(report.summary().find("1 of 6 packages fail: " + catalog_.entries[index].file + " (" +
                                    package_status_name(status) + ")"),
              std::string::npos)
        << report.summary();
  }

  TempDir dir_;
  std::vector<Package> packages_;
  OpenCswCatalog catalog_;
  std::vector<openpgp::Certificate> keyring_;
};

TEST_F(PackageGate, AllPassWithOneThreadOrMany) {
  for (unsigned threads : {1u, 2u, 8u, 0u}) {
    const GateReport report = check(threads);
    ASSERT_EQ(report.packages.size(), 6u);
    EXPECT_TRUE(report.ok()) << report.summary();
    EXPECT_EQ(report.failures(), 0u);
    EXPECT_EQ(report.summary(), "all 6 packages pass");
    for (const auto& p : report.packages) {
      EXPECT_EQ(p.status, PackageStatus::ok) << p.file << ": " << p.detail;
      EXPECT_NE(p.detail.find(GpgVectors::get().fingerprint.substr(0, 4)), std::string::npos) << p.detail;
    }
  }
}

TEST_F(PackageGate, ProgressCountsEveryPackage) {
  const Root r(root(), "package");
  GateOptions options;
  options.threads = 3;
  std::vector<std::size_t> seen;
  options.progress = [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, 6u);
    seen.push_back(done);
  };
  check_packages(catalog_, r, kDir, keyring_, options);
  EXPECT_EQ(seen, (std::vector<std::size_t>{1, 2, 3, 4, 5, 6}));
}

TEST_F(PackageGate, Missing) {
  fs::remove(file_path(0));
  expect_only(0, PackageStatus::missing, "does not exist");
}

TEST_F(PackageGate, LinkEscapingTheRootIsMissing) {
  write_text(dir_ / "outside.pkg.gz", packages_[5].data);
  fs::remove(file_path(5));
  fs::create_symlink("../../../../outside.pkg.gz", file_path(5));
  expect_only(5, PackageStatus::missing, "escapes");
}

TEST_F(PackageGate, DirectoryIsMissing) {
  fs::remove(file_path(1));
  fs::create_directory(file_path(1));
  expect_only(1, PackageStatus::missing, "not a regular file");
}

TEST_F(PackageGate, SizeMismatch) {
  write_text(file_path(3), packages_[3].data + "x");
  expect_only(3, PackageStatus::size_mismatch, "size 1235, catalog says 1234");
}

TEST_F(PackageGate, FlippedByteIsMd5Mismatch) {
  std::string data = packages_[1].data;
  data[150000] = static_cast<char>(data[150000] ^ 0x01);
  write_text(file_path(1), data);
  expect_only(1, PackageStatus::md5_mismatch, "catalog says " + md5_hex(packages_[1].data));
}

TEST_F(PackageGate, FlippedByteInALinkedPackage) {
  std::string data = packages_[5].data;
  data[0] = static_cast<char>(data[0] ^ 0x80);
  write_text(root() / "allpkgs" / catalog_.entries[5].file, data);
  expect_only(5, PackageStatus::md5_mismatch, "md5 ");
}

TEST_F(PackageGate, NoSignatureIsUnsigned) {
  fs::remove(file_path(2).string() + ".asc");
  expect_only(2, PackageStatus::unsigned_, ".asc");
  EXPECT_STREQ(package_status_name(PackageStatus::unsigned_), "unsigned");
}

TEST_F(PackageGate, SignatureByAnotherKeyIsBad) {
  write_text(file_path(0).string() + ".asc",
             sign(packages_[0].data, {"--detach-sign", "--armor"}, GpgVectors::get().other_fingerprint));
  expect_only(0, PackageStatus::bad_signature, "not in the keyring");
}

TEST_F(PackageGate, SignatureOverOtherDataIsBad) {
  // The catalog's md5 and size match, but the .asc is another package's.
  fs::copy_file(file_path(1).string() + ".asc", file_path(0).string() + ".asc",
                fs::copy_options::overwrite_existing);
  expect_only(0, PackageStatus::bad_signature, "does not match the data");
}

TEST_F(PackageGate, UnparseableSignatureIsBad) {
  write_text(file_path(4).string() + ".asc", "-----BEGIN PGP SIGNATURE-----\n\nnot base64 at all\n");
  expect_only(4, PackageStatus::bad_signature, ".asc");
  write_text(file_path(4).string() + ".asc", "");
  expect_only(4, PackageStatus::bad_signature, "empty");
}

TEST_F(PackageGate, RevokedKeyIsNotTrusted) {
  GpgVectors& gpg = GpgVectors::get();
  // The revocation as a block of its own after the certificate, as gpg --gen-revoke writes it.
  const auto revoked = read_package_keyring(to_bytes(gpg.cert_armored + gpg.revocation_armored));
  ASSERT_EQ(revoked.size(), 1u);
  EXPECT_TRUE(revoked[0].revoked());
  const GateReport report = check(0, &revoked);
  EXPECT_EQ(report.failures(), 6u);
  for (const auto& p : report.packages) {
    EXPECT_EQ(p.status, PackageStatus::bad_signature);
    EXPECT_NE(p.detail.find("revoked"), std::string::npos) << p.detail;
  }
  // A revocation block before the certificate works the same.
  const auto first = read_package_keyring(to_bytes(gpg.revocation_armored + gpg.cert_armored));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(first[0].revoked());
  // A revocation for a key that is not in the keyring changes nothing.
  const auto other = read_package_keyring(to_bytes(gpg.other_cert_armored + gpg.revocation_armored));
  ASSERT_EQ(other.size(), 1u);
  EXPECT_FALSE(other[0].revoked());
}

TEST_F(PackageGate, SignerIsTheSecondCertificateOfTheKeyring) {
  GpgVectors& gpg = GpgVectors::get();
  for (const std::string& text : {gpg.other_cert_armored + gpg.cert_armored,
                                  gpg.gpg({"--export", gpg.other_fingerprint, gpg.fingerprint}).out}) {
    const auto keyring = read_package_keyring(to_bytes(text));
    ASSERT_EQ(keyring.size(), 2u);
    const GateReport report = check(0, &keyring);
    EXPECT_TRUE(report.ok()) << report.summary();
  }
  // And with only the other key, nothing passes.
  const auto only_other = read_package_keyring(to_bytes(gpg.other_cert_armored));
  EXPECT_EQ(check(0, &only_other).failures(), 6u);
}

TEST_F(PackageGate, SummaryNamesTheFirstFailures) {
  for (std::size_t i = 0; i < 6; ++i) fs::remove(file_path(i));
  fs::remove(root() / "allpkgs" / catalog_.entries[5].file);
  const GateReport report = check();
  EXPECT_EQ(report.failures(), 6u);
  const std::string s = report.summary(2);
  EXPECT_EQ(s.rfind("6 of 6 packages fail: " + catalog_.entries[0].file + " (missing), " +
                        catalog_.entries[1].file + " (missing), and 4 more",
                    0),
            0u)
      << s;
}

TEST(PackageGateRealCatalog, EveryPackageMissingFast) {
  const std::string text = read_text(std::string(CATSIGN_SOURCE_DIR) + "/tests/data/opencsw/example-catalog.txt");
  const OpenCswCatalog catalog = parse_opencsw_catalog(text);
  TempDir dir;
  fs::create_directories(dir.path() / "dublin/sparc/5.8");
  const auto keyring = read_package_keyring(to_bytes(GpgVectors::get().cert_armored));
  const auto start = std::chrono::steady_clock::now();
  const GateReport report = check_packages(catalog, Root(dir.path(), "package"), "dublin/sparc/5.8", keyring);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(report.packages.size(), 2146u);
  EXPECT_EQ(report.failures(), 2146u);
  for (std::size_t i = 0; i < report.packages.size(); ++i) {
    EXPECT_EQ(report.packages[i].status, PackageStatus::missing);
    EXPECT_EQ(report.packages[i].line, i + 1);
  }
  EXPECT_LT(took, std::chrono::seconds(5));
}

}  // namespace
}  // namespace catsign::catalog
