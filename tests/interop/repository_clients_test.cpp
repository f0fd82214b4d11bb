// SPDX-License-Identifier: Apache-2.0
// apt-get, dnf and pacman, the real clients with private state, against repositories built
// with dpkg-deb/apt-ftparchive, rpmbuild/createrepo_c and bsdtar/repo-add, signed by the one-shot
// path (catsign sign, catsign resign --repository): each accepts catsign's signatures in the
// form it reads and rejects a tampered index.
#include <gtest/gtest.h>

#include "../support/process.hpp"
#include "../support/repo_clients.hpp"
#include "../token/softhsm_fixture.hpp"

namespace catsign {
namespace {

namespace fs = std::filesystem;
using testing::AptClient;
using testing::DnfClient;
using testing::PacmanClient;
using testing::RunResult;
using testing::SoftHsmToken;
using testing::TempDir;
using testing::make_repo;
using testing::read_text;
using testing::write_text;

const std::string kCatsign = CATSIGN_BINARY;
const std::string kPin = std::string(SoftHsmToken::kUserPin) + "\n";

class RepositoryClients : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    hsm_ = new SoftHsmToken();
    keys_ = new TempDir();
    fs::create_directories(*keys_ / "keys");
    write_text(config(), "[token]\nmodule = \"" + SoftHsmToken::module_path() +
                             "\"\n\n[keys.catalog]\nuri = \"pkcs11:token=catsign;object=catalog-test\"\n"
                             "certificate = \"" + cert().string() + "\"\nrevocation = \"" +
                             (*keys_ / "keys/catalog.rev.asc").string() + "\"\n");
    RunResult r = catsign({"keygen", "--config", config(), "--bits", "2048", "--uid",
                           "Repository Test <repos@example.org>", "--pin-fd", "3"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete keys_;
    delete hsm_;
  }

  static std::string config() { return (*keys_ / "catsign.toml").string(); }
  static fs::path cert() { return *keys_ / "keys/catalog.asc"; }
  static RunResult catsign(std::vector<std::string> args) {
    args.insert(args.begin(), kCatsign);
    return testing::run(args, "", {{"SOFTHSM2_CONF", hsm_->conf_path()}}, &kPin);
  }
  static void sign(const std::vector<std::string>& args) {
    std::vector<std::string> a = {"sign", "--config", config(), "--pin-fd", "3"};
    a.insert(a.end(), args.begin(), args.end());
    RunResult r = catsign(a);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  fs::path repo() const { return work_.path() / "repo"; }

  // The suite's keys plus [repositories.NAME] sections rooted at repo().
  std::string repo_config(const std::string& sections) const {
    const fs::path path = work_.path() / "repos.toml";
    write_text(path, read_text(config()) + "\n" + sections);
    return path.string();
  }
  std::string apt_config(bool verify = true) const {
    return repo_config("[repositories.debian]\nroot = \"" + repo().string() +
                       "\"\npath = \"dists/{suite}/Release\"\nsuite = [\"bookworm\", \"stable\", \"trixie\"]\n"
                       "verify_listed_files = " + (verify ? "true" : "false") + "\n");
  }
  RunResult resign(const std::string& config_file, const std::string& name) const {
    return catsign({"resign", "--config", config_file, "--repository", name, "--pin-fd", "3"});
  }
  RunResult verify(const std::vector<std::string>& args) const {
    std::vector<std::string> a = {"verify", "--cert", cert().string()};
    a.insert(a.end(), args.begin(), args.end());
    return catsign(a);
  }

  TempDir work_;
  static SoftHsmToken* hsm_;
  static TempDir* keys_;
};

SoftHsmToken* RepositoryClients::hsm_ = nullptr;
TempDir* RepositoryClients::keys_ = nullptr;

// Flips one character of the signed text (not the signature): the index a client gets is not
// the one that was signed.
void tamper(const fs::path& file, const std::string& from, const std::string& to) {
  std::string text = read_text(file);
  std::size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from << " not in " << file;
  text.replace(at, from.size(), to);
  write_text(file, text);
}

TEST_F(RepositoryClients, AptAcceptsInReleaseAndReleaseGpgFromCatsignSign) {
  make_repo("apt", repo());
  const fs::path dists = repo() / "dists/bookworm";
  sign({"--clearsign", (dists / "Release").string(), "--output", (dists / "InRelease").string()});
  sign({(dists / "Release").string(), "--output", (dists / "Release.gpg").string()});
  EXPECT_TRUE(AptClient(repo(), cert()).accepts("1.0"));

  // Without InRelease apt falls back to Release and its armored Release.gpg.
  fs::rename(dists / "InRelease", work_.path() / "InRelease");
  EXPECT_TRUE(AptClient(repo(), cert()).accepts("1.0"));

  // A Release changed after signing: Release.gpg no longer fits.
  tamper(dists / "Release", "Suite: bookworm", "Suite: bookwors");
  AptClient tampered(repo(), cert());
  RunResult r = tampered.update();
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("is not signed"), std::string::npos) << r.err;
  EXPECT_EQ(tampered.policy("catsign-hello").out.find("Candidate: 1.0"), std::string::npos);

  // An InRelease whose text was changed after signing.
  tamper(dists / "Release", "Suite: bookwors", "Suite: bookworm");
  fs::rename(work_.path() / "InRelease", dists / "InRelease");
  tamper(dists / "InRelease", "Codename: bookworm", "Codename: bookwork");
  r = AptClient(repo(), cert()).update();
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("BADSIG"), std::string::npos) << r.out << r.err;
}

TEST_F(RepositoryClients, AptRefusesABinaryReleaseGpg) {
  make_repo("apt", repo());
  const fs::path dists = repo() / "dists/bookworm";
  sign({"--binary", (dists / "Release").string(), "--output", (dists / "Release.gpg").string()});
  RunResult r = AptClient(repo(), cert()).update();
  EXPECT_NE(r.exit_code, 0);
  // apt 2.6 hands only armored detached signatures to gpgv, so what it says varies.
  EXPECT_NE(r.err.find("E: GPG error: file:" + repo().string() + " bookworm Release"), std::string::npos) << r.err;
}

TEST_F(RepositoryClients, AptRefusesAnotherKey) {
  make_repo("apt", repo());
  const fs::path dists = repo() / "dists/bookworm";
  sign({"--clearsign", (dists / "Release").string(), "--output", (dists / "InRelease").string()});
  // signed-by names a certificate that did not make the signature.
  const fs::path other = work_.path() / "other.asc";
  write_text(other, read_text(std::string(CATSIGN_SOURCE_DIR) + "/tests/data/opencsw/csw_catalog_signing_2011-09.asc"));
  RunResult r = AptClient(repo(), other).update();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("NO_PUBKEY"), std::string::npos) << r.err;
}

TEST_F(RepositoryClients, DnfAcceptsRepomdAscFromCatsignSign) {
  make_repo("rpm", repo());
  const fs::path repomd = repo() / "el9/x86_64/repodata/repomd.xml";
  sign({repomd.string()});  // repomd.xml.asc
  ASSERT_TRUE(fs::exists(repomd.string() + ".asc"));
  EXPECT_TRUE(DnfClient(repo() / "el9/x86_64", cert()).accepts());

  tamper(repomd, "<revision>", "<revision>1");
  DnfClient tampered(repo() / "el9/x86_64", cert());
  RunResult r = tampered.makecache();
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("GPG signature verification error"), std::string::npos) << r.err;
  EXPECT_FALSE(tampered.cached());
}

TEST_F(RepositoryClients, DnfRefusesAMissingSignature) {
  make_repo("rpm", repo());
  DnfClient client(repo() / "el9/x86_64", cert());
  RunResult r = client.makecache();
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;  // skip_if_unavailable=0: a failure, not a skip
  EXPECT_FALSE(client.cached());
}

TEST_F(RepositoryClients, PacmanAcceptsDbSigFromCatsignSign) {
  make_repo("pacman", repo());
  const fs::path db = repo() / "catsign/os/x86_64/catsign.db";
  sign({"--binary", db.string()});  // catsign.db.sig, beside the link
  ASSERT_TRUE(fs::is_regular_file(db.string() + ".sig"));
  PacmanClient client(repo(), cert());
  EXPECT_TRUE(client.accepts());

  // One byte more in the database the signature covers.
  write_text(repo() / "catsign/os/x86_64/catsign.db.tar.gz", read_text(db) + "x");
  RunResult r = client.sync();
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("signature from \"Repository Test <repos@example.org>\" is invalid"), std::string::npos) << r.err;
}

TEST_F(RepositoryClients, PacmanRefusesAnUnsignedDatabase) {
  make_repo("pacman", repo());
  RunResult r = PacmanClient(repo(), cert()).sync();
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;  // DatabaseRequired
}

TEST_F(RepositoryClients, ResignWritesAptsTwoFormsForEverySuite) {
  make_repo("apt", repo());
  // stable is bookworm under another name; trixie is configured but not there yet.
  fs::create_directory_symlink("bookworm", repo() / "dists/stable");
  RunResult r = resign(apt_config(), "debian");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("signed debian:bookworm, debian:stable (InRelease, Release.gpg in " +
                       fs::canonical(repo() / "dists/bookworm").string() + ")"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("absent debian:trixie (dists/trixie/Release)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 apt index signed, 0 refused by the listed-files check, 0 failed, 1 absent"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(AptClient(repo(), cert()).accepts("1.0"));

  // Both signatures are bound to both names, as the daemon's are to the one requested.
  const fs::path dists = repo() / "dists/bookworm";
  for (const char* name : {"debian:bookworm", "debian:stable"}) {
    RunResult v = verify({"--expect-catalog", name, (dists / "Release.gpg").string(), (dists / "Release").string()});
    EXPECT_EQ(v.exit_code, 0) << name << ": " << v.err;
    v = verify({"--expect-catalog", name, (dists / "InRelease").string()});
    EXPECT_EQ(v.exit_code, 0) << name << ": " << v.err;
  }
  RunResult v = verify({"--expect-catalog", "debian:trixie", (dists / "InRelease").string()});
  EXPECT_NE(v.exit_code, 0);

  // A new package, the Release rebuilt, signed again: apt takes the new version.
  make_repo("apt", repo());
  ASSERT_EQ(resign(apt_config(), "debian").exit_code, 0);
  EXPECT_TRUE(AptClient(repo(), cert()).accepts("1.1"));
}

TEST_F(RepositoryClients, ResignRefusesAReleaseWhosePackagesChanged) {
  make_repo("apt", repo());
  const fs::path dists = repo() / "dists/bookworm";
  tamper(dists / "main/binary-all/Packages", "Version: 1.0", "Version: 9.0");
  RunResult r = resign(apt_config(), "debian");
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_NE(r.out.find("debian:bookworm: main/binary-all/Packages: hash_mismatch"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 apt indexes signed, 1 refused by the listed-files check"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("not signed"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dists / "InRelease"));
  EXPECT_FALSE(fs::exists(dists / "Release.gpg"));
  // Without the check it is signed, and apt itself then refuses the Packages file.
  ASSERT_EQ(resign(apt_config(false), "debian").exit_code, 0);
  RunResult u = AptClient(repo(), cert()).update();
  EXPECT_NE(u.exit_code, 0);
  EXPECT_NE(u.err.find("Hash Sum mismatch"), std::string::npos) << u.err;
}

TEST_F(RepositoryClients, ResignWritesRepomdAscAndDnfTakesIt) {
  make_repo("rpm", repo());
  const std::string config_file =
      repo_config("[repositories.el]\nroot = \"" + repo().string() +
                  "\"\npath = \"{release}/{arch}/repodata/repomd.xml\"\nrelease = [\"el9\"]\n"
                  "arch = [\"x86_64\", \"aarch64\"]\nverify_listed_files = true\n");
  RunResult r = resign(config_file, "el");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("signed el:el9/x86_64 (repomd.xml.asc in"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("absent el:el9/aarch64"), std::string::npos) << r.out;
  EXPECT_TRUE(DnfClient(repo() / "el9/x86_64", cert()).accepts());
  const fs::path repodata = repo() / "el9/x86_64/repodata";
  EXPECT_EQ(verify({"--expect-catalog", "el:el9/x86_64", (repodata / "repomd.xml.asc").string(),
                    (repodata / "repomd.xml").string()})
                .exit_code,
            0);

  // primary.xml.gz replaced after createrepo_c: the listed-files check refuses the index.
  for (const auto& e : fs::directory_iterator(repodata))
    if (e.path().filename().string().find("-primary.xml.gz") != std::string::npos)
      write_text(e.path(), read_text(e.path()) + "x");
  fs::remove(repodata / "repomd.xml.asc");
  r = resign(config_file, "el");
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_NE(r.out.find("-primary.xml.gz: size_mismatch"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(repodata / "repomd.xml.asc"));
}

TEST_F(RepositoryClients, ResignWritesTheBinaryDbSigAndPacmanTakesIt) {
  make_repo("pacman", repo());
  const std::string config_file =
      repo_config("[repositories.arch]\nroot = \"" + repo().string() +
                  "\"\npath = \"{repo}/os/{arch}/{repo}.db\"\nrepo = [\"catsign\"]\narch = [\"x86_64\"]\n");
  RunResult r = resign(config_file, "arch");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("signed arch:catsign/x86_64 (catsign.db.sig in"), std::string::npos) << r.out;
  const fs::path sig = repo() / "catsign/os/x86_64/catsign.db.sig";
  ASSERT_TRUE(fs::is_regular_file(sig));
  EXPECT_NE(read_text(sig).substr(0, 5), "-----") << "pacman reads a binary signature";
  EXPECT_TRUE(PacmanClient(repo(), cert()).accepts());
  EXPECT_EQ(verify({"--expect-catalog", "arch:catsign/x86_64", sig.string(),
                    (repo() / "catsign/os/x86_64/catsign.db").string()})
                .exit_code,
            0);
}

TEST_F(RepositoryClients, ResignRefusesWhatIsNotConfigured) {
  make_repo("apt", repo());
  RunResult r = resign(apt_config(), "ubuntu");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no [repositories.ubuntu]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("configured: debian"), std::string::npos) << r.err;
  r = catsign({"resign", "--config", apt_config(), "--repository", "debian", "--all", "--pin-fd", "3"});
  EXPECT_EQ(r.exit_code, 2);
  fs::remove_all(repo() / "dists");
  r = resign(apt_config(), "debian");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no index of [repositories.debian] exists"), std::string::npos) << r.err;
  // An index that leaves the root through a link is not signed.
  fs::create_directories(repo() / "dists");
  make_repo("apt", work_.path() / "elsewhere");
  fs::create_directory_symlink(work_.path() / "elsewhere/dists/bookworm", repo() / "dists/bookworm");
  r = resign(apt_config(), "debian");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("skipped debian:bookworm: repository file 'dists/bookworm/Release' escapes"), std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(work_.path() / "elsewhere/dists/bookworm/InRelease"));
}

}  // namespace
}  // namespace catsign
