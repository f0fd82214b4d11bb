// SPDX-License-Identifier: Apache-2.0
// catsignd signing apt, rpm and pacman indexes ([repositories.NAME], requests NAME:v1/v2) for
// the real clients: apt-get takes the InRelease and Release.gpg it hands out, dnf the
// repomd.xml.asc, pacman the binary .db.sig, each refusing a tampered index; with
// verify_listed_files the daemon refuses a Release or repomd.xml whose listed files changed
// (ERR INDEX_MISMATCH, exit 5, audited with the failures); requests outside the config or the
// root are refused as catalogs are.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <botan/hash.h>
#include <botan/hex.h>

#include "../support/repo_clients.hpp"
#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

namespace fs = std::filesystem;

std::string sha256_of(const fs::path& file) {
  auto h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(read_text(file));
  return Botan::hex_encode(h->final(), false);
}

nlohmann::json last_audit(const DaemonFixture& d) {
  std::istringstream in(read_text(d.audit_log()));
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return nlohmann::json::parse(last);
}

void tamper(const fs::path& file, const std::string& from, const std::string& to) {
  std::string text = read_text(file);
  std::size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from << " not in " << file;
  text.replace(at, from.size(), to);
  write_text(file, text);
}

class DaemonRepository : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    repos_ = new TempDir();
    for (const char* kind : {"apt", "rpm", "pacman"}) fs::create_directories(*repos_ / kind);
    const std::string r = repos_->path().string();
    // The package key signs the pacman repository: a repository may have its own key.
    daemon_ = new DaemonFixture({.extra_config = "\n[repositories.debian]\nroot = \"" + r +
                                                 "/apt\"\npath = \"dists/{suite}/Release\"\n"
                                                 "suite = [\"bookworm\", \"trixie\"]\nverify_listed_files = true\n"
                                                 "\n[repositories.el]\nroot = \"" + r +
                                                 "/rpm\"\npath = \"{release}/{arch}/repodata/repomd.xml\"\n"
                                                 "release = [\"el9\"]\narch = [\"x86_64\"]\nverify_listed_files = true\n"
                                                 "\n[repositories.arch]\nroot = \"" + r +
                                                 "/pacman\"\npath = \"{repo}/os/{arch}/{repo}.db\"\n"
                                                 "repo = [\"catsign\"]\narch = [\"x86_64\"]\nkey = \"package\"\n",
                                 .package_key = true});
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete repos_;
  }

  void SetUp() override {
    // The roots stay (the daemon holds them open); their contents are new for each test.
    for (const char* kind : {"apt", "rpm", "pacman"})
      for (const auto& e : fs::directory_iterator(*repos_ / kind)) fs::remove_all(e.path());
    ASSERT_EQ(d().unlock().code, "OK") << d().log();
  }
  void TearDown() override { d().lock(); }

  static DaemonFixture& d() { return *daemon_; }
  static fs::path repo(const std::string& kind) { return *repos_ / kind; }

  // catsign request NAME --sha256 <of file> [extra...] --output OUT
  static RunResult request(const std::string& name, const fs::path& file, const fs::path& out,
                           const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"request", "--socket", d().sign_socket().string(), name, "--sha256", sha256_of(file)};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--output", out.string()});
    return d().catsign(args);
  }
  static Reply raw_sign(const std::string& name, const fs::path& file, const std::string& options = "") {
    return d().raw("SIGN " + name + " sha256=" + sha256_of(file) + (options.empty() ? "" : " " + options) + "\n");
  }

  static TempDir* repos_;
  static DaemonFixture* daemon_;
};

TempDir* DaemonRepository::repos_ = nullptr;
DaemonFixture* DaemonRepository::daemon_ = nullptr;

TEST_F(DaemonRepository, AptTakesTheDaemonsInReleaseAndReleaseGpg) {
  make_repo("apt", repo("apt"));
  const fs::path dists = repo("apt") / "dists/bookworm";
  RunResult r = request("debian:bookworm", dists / "Release", dists / "InRelease", {"--clearsign"});
  ASSERT_EQ(r.exit_code, 0) << r.err << d().log();
  r = request("debian:bookworm", dists / "Release", dists / "Release.gpg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(AptClient(repo("apt"), d().cert()).accepts("1.0"));
  nlohmann::json audit = last_audit(d());
  EXPECT_EQ(audit["tuple"], "debian:bookworm");
  EXPECT_EQ(audit["index"], "dists/bookworm/Release");
  EXPECT_EQ(audit["result"], "ok");

  // Bound to the request by the notation, as catalog signatures are to their tuple.
  RunResult v = d().catsign({"verify", "--cert", d().cert().string(), "--expect-catalog", "debian:bookworm",
                             (dists / "InRelease").string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  v = d().catsign({"verify", "--cert", d().cert().string(), "--expect-catalog", "debian:trixie",
                   (dists / "Release.gpg").string(), (dists / "Release").string()});
  EXPECT_NE(v.exit_code, 0);
  EXPECT_NE(v.err.find("debian:bookworm"), std::string::npos) << v.err;

  // Release.gpg alone, then both tampered.
  fs::remove(dists / "InRelease");
  EXPECT_TRUE(AptClient(repo("apt"), d().cert()).accepts("1.0"));
  tamper(dists / "Release", "Suite: bookworm", "Suite: bookwork");
  RunResult u = AptClient(repo("apt"), d().cert()).update();
  EXPECT_NE(u.exit_code, 0);
  EXPECT_NE(u.err.find("is not signed"), std::string::npos) << u.err;
}

TEST_F(DaemonRepository, RefusesAReleaseWhoseListedPackagesChanged) {
  make_repo("apt", repo("apt"));
  const fs::path dists = repo("apt") / "dists/bookworm";
  // A Packages file changed after the Release was made: the Release no longer describes it.
  tamper(dists / "main/binary-all/Packages", "Version: 1.0", "Version: 6.6");
  Reply reply = raw_sign("debian:bookworm", dists / "Release", "mode=clearsign");
  EXPECT_EQ(reply.code, "INDEX_MISMATCH");
  EXPECT_NE(reply.payload.find("1 of 2 files Release lists do not match the tree"), std::string::npos) << reply.payload;
  EXPECT_NE(reply.payload.find("main/binary-all/Packages (hash_mismatch"), std::string::npos) << reply.payload;
  nlohmann::json audit = last_audit(d());
  EXPECT_EQ(audit["result"], "refused");
  EXPECT_EQ(audit["code"], "INDEX_MISMATCH");
  EXPECT_EQ(audit["listed_failed_count"], 1);
  ASSERT_EQ(audit["listed_failed"].size(), 1u);
  EXPECT_EQ(audit["listed_failed"][0]["file"], "main/binary-all/Packages");
  EXPECT_EQ(audit["listed_failed"][0]["status"], "hash_mismatch");

  // catsign request says so with exit 5 and writes nothing.
  RunResult r = request("debian:bookworm", dists / "Release", dists / "InRelease", {"--clearsign"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("Release lists do not match the tree"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dists / "InRelease"));

  // A Packages.gz gone is named too; a Release that does not parse is refused the same way.
  fs::remove(dists / "main/binary-all/Packages.gz");
  reply = raw_sign("debian:bookworm", dists / "Release");
  EXPECT_EQ(reply.code, "INDEX_MISMATCH");
  EXPECT_NE(reply.payload.find("Packages.gz (missing"), std::string::npos) << reply.payload;
  write_text(dists / "Release", "Suite: bookworm\n");
  reply = raw_sign("debian:bookworm", dists / "Release");
  EXPECT_EQ(reply.code, "INDEX_MISMATCH");
  EXPECT_NE(reply.payload.find("does not parse"), std::string::npos) << reply.payload;
}

TEST_F(DaemonRepository, DnfTakesTheDaemonsRepomdAsc) {
  make_repo("rpm", repo("rpm"));
  const fs::path repodata = repo("rpm") / "el9/x86_64/repodata";
  RunResult r = request("el:el9/x86_64", repodata / "repomd.xml", repodata / "repomd.xml.asc");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(DnfClient(repo("rpm") / "el9/x86_64", d().cert()).accepts());
  tamper(repodata / "repomd.xml", "<revision>", "<revision>9");
  DnfClient tampered(repo("rpm") / "el9/x86_64", d().cert());
  RunResult m = tampered.makecache();
  EXPECT_NE(m.exit_code, 0);
  EXPECT_NE(m.err.find("GPG signature verification error"), std::string::npos) << m.err;
  EXPECT_FALSE(tampered.cached());

  // A primary.xml.gz that is not the one repomd.xml lists is refused before signing.
  tamper(repodata / "repomd.xml", "<revision>9", "<revision>");
  for (const auto& e : fs::directory_iterator(repodata))
    if (e.path().filename().string().find("-primary.xml.gz") != std::string::npos) write_text(e.path(), "not gzip");
  Reply reply = raw_sign("el:el9/x86_64", repodata / "repomd.xml");
  EXPECT_EQ(reply.code, "INDEX_MISMATCH");
  EXPECT_NE(reply.payload.find("-primary.xml.gz (size_mismatch"), std::string::npos) << reply.payload;
}

TEST_F(DaemonRepository, PacmanTakesTheDaemonsBinaryDbSigMadeWithTheRepositorysKey) {
  make_repo("pacman", repo("pacman"));
  const fs::path dir = repo("pacman") / "catsign/os/x86_64";
  RunResult r = request("arch:catsign/x86_64", dir / "catsign.db", dir / "catsign.db.sig", {"--binary"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // [repositories.arch] key = "package": the catalog key's certificate does not vouch for it.
  EXPECT_TRUE(PacmanClient(repo("pacman"), d().package_cert()).accepts());
  RunResult other = PacmanClient(repo("pacman"), d().cert()).sync();
  EXPECT_NE(other.exit_code, 0) << other.out << other.err;
  nlohmann::json audit = last_audit(d());
  EXPECT_EQ(audit["tuple"], "arch:catsign/x86_64");
  EXPECT_NE(audit["key"], nlohmann::json::parse(d().status())["key_fingerprint"]) << "signed with the catalog key";

  PacmanClient client(repo("pacman"), d().package_cert());
  write_text(dir / "catsign.db.tar.gz", read_text(dir / "catsign.db") + "x");
  RunResult s = client.sync();
  EXPECT_NE(s.exit_code, 0);
  EXPECT_NE(s.err.find("is invalid"), std::string::npos) << s.err;
}

TEST_F(DaemonRepository, RefusesWhatTheConfigDoesNotName) {
  make_repo("apt", repo("apt"));
  const fs::path release = repo("apt") / "dists/bookworm/Release";
  EXPECT_EQ(raw_sign("ubuntu:jammy", release).code, "UNKNOWN_CATALOG");
  EXPECT_EQ(raw_sign("debian:sid", release).code, "UNKNOWN_CATALOG");
  EXPECT_EQ(raw_sign("debian:Bookworm", release).code, "UNKNOWN_CATALOG");
  Reply r = raw_sign("debian:..", release);
  EXPECT_EQ(r.code, "BAD_REQUEST");
  EXPECT_NE(r.payload.find("not . or .."), std::string::npos) << r.payload;
  EXPECT_EQ(raw_sign("debian:bookworm/x", release).code, "BAD_REQUEST");
  EXPECT_EQ(raw_sign("debian:", release).code, "BAD_REQUEST");
  // Configured but not built yet.
  r = raw_sign("debian:trixie", release);
  EXPECT_EQ(r.code, "UNKNOWN_CATALOG");
  EXPECT_NE(r.payload.find("does not exist"), std::string::npos) << r.payload;
  // A suite linked out of the root is never read.
  make_repo("apt", repos_->path() / "outside");
  fs::create_directory_symlink(repos_->path() / "outside/dists/bookworm", repo("apt") / "dists/trixie");
  r = raw_sign("debian:trixie", repos_->path() / "outside/dists/bookworm/Release");
  EXPECT_EQ(r.code, "UNKNOWN_CATALOG");
  EXPECT_NE(r.payload.find("escapes"), std::string::npos) << r.payload;
  // The hash is the client's: another Release is not signed.
  r = d().raw("SIGN debian:bookworm sha256=" + std::string(64, '0') + "\n");
  EXPECT_EQ(r.code, "HASH_MISMATCH");
  EXPECT_NE(r.payload.find("index debian:bookworm has sha256"), std::string::npos) << r.payload;
  // Unprefixed tuples are still OpenCSW's.
  EXPECT_EQ(d().sign("unstable/i386/5.10").code, "OK");
}

TEST_F(DaemonRepository, LockedMeansLocked) {
  make_repo("apt", repo("apt"));
  d().lock();
  EXPECT_EQ(raw_sign("debian:bookworm", repo("apt") / "dists/bookworm/Release").code, "LOCKED");
}

}  // namespace
}  // namespace catsign::testing
