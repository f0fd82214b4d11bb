// SPDX-License-Identifier: Apache-2.0
// Every key type catsign generates (RSA, ECDSA P-256 and P-384, Ed25519) end to end on a
// throwaway SoftHSM token: the key's attributes read back by pkcs11-tool (sign only), every
// signature form verified by gpg, gpgv, sqv and sq and rejected by all of them once a byte
// changes; expiry in the certificate, extension and export with the same fingerprint; and the
// token listing.
#include <gtest/gtest.h>

#include <unistd.h>

#include "../support/cli.hpp"
#include "../support/process.hpp"
#include "../token/softhsm_fixture.hpp"

namespace catsign {
namespace {

using namespace testing;

struct KeyType {
  const char* algo;          // keygen --algo
  const char* described;     // what keygen prints: "NIST P-256"
  const char* hash_header;   // the cleartext Hash: header
  const char* gpg_algo;      // field 4 of gpg's "pub" colon line: 1, 19, 22
  const char* pkcs11_type;   // pkcs11-tool's "Private Key Object; ..."
};

const KeyType kKeyTypes[] = {
    {"rsa2048", "RSA-2048", "SHA256", "1", "RSA"},
    {"nistp256", "NIST P-256", "SHA256", "19", "EC"},
    {"nistp384", "NIST P-384", "SHA384", "19", "EC"},
    {"ed25519", "Ed25519", "SHA256", "22", "EC_EDWARDS"},
};

void PrintTo(const KeyType& k, std::ostream* os) { *os << k.algo; }

std::string param_name(const ::testing::TestParamInfo<KeyType>& info) { return info.param.algo; }

// "pub:u:256:19:KEYID:CREATED:EXPIRES:..." from gpg --with-colons: the fields of the first pub line.
std::vector<std::string> pub_fields(const std::string& colons) {
  std::size_t at = colons.find("pub:");
  std::vector<std::string> fields;
  if (at == std::string::npos) return fields;
  std::string line = colons.substr(at, colons.find('\n', at) - at);
  std::size_t start = 0;
  for (std::size_t p; (p = line.find(':', start)) != std::string::npos; start = p + 1) fields.push_back(line.substr(start, p - start));
  fields.push_back(line.substr(start));
  return fields;
}

std::string fpr_of(const std::string& colons) {
  std::size_t at = colons.find("fpr:::::::::");
  return at == std::string::npos ? "" : colons.substr(at + 12, 40);
}

class KeyTypes : public ::testing::TestWithParam<KeyType> {
 protected:
  void SetUp() override {
    write_text(config(), "[token]\nmodule = \"" + SoftHsmToken::module_path() +
                             "\"\n\n[keys.catalog]\nuri = \"pkcs11:token=catsign;object=key-" + GetParam().algo +
                             "\"\ncertificate = \"catalog.asc\"\nrevocation = \"catalog.rev.asc\"\n"
                             "uid = \"Catalog Test <catalog@example.org>\"\n");
  }

  std::string config() const { return (dir_ / "catsign.toml").string(); }
  std::string cert() const { return (dir_ / "catalog.asc").string(); }

  RunResult catsign(std::vector<std::string> args, bool pin = true) const {
    args.insert(args.begin(), kCatsign);
    if (pin) args.insert(args.end(), {"--pin-fd", "3"});
    return run(args, "", {{"SOFTHSM2_CONF", hsm_.conf_path()}}, pin ? &kPinLine : nullptr);
  }

  // keygen; returns the fingerprint it printed.
  std::string keygen(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"keygen", "--config", config(), "--algo", GetParam().algo};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = catsign(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(std::string("generated ") + GetParam().described + " key"), std::string::npos) << r.out;
    std::size_t at = r.out.find("fingerprint");
    return at == std::string::npos ? "" : r.out.substr(at + 13, 40);
  }

  RunResult show(const std::string& cert_file) const {
    std::filesystem::create_directories(dir_ / "gnupg-show");
    std::filesystem::permissions(dir_ / "gnupg-show", std::filesystem::perms::owner_all);
    return run({"gpg", "--homedir", (dir_ / "gnupg-show").string(), "--batch", "--with-colons", "--show-keys", cert_file});
  }

  void expect_detached(const GpgHome& gpg, const std::filesystem::path& sig, const std::filesystem::path& data,
                       bool good, const std::string& what) const {
    RunResult g = gpg.verify({sig.string(), data.string()});
    EXPECT_EQ(g.exit_code == 0 && g.out.find("[GNUPG:] GOODSIG") != std::string::npos, good) << what << " gpg\n" << g.err;
    RunResult v = run({"gpgv", "--keyring", (gpg.path() / "pubring.kbx").string(), sig.string(), data.string()});
    EXPECT_EQ(v.exit_code == 0, good) << what << " gpgv\n" << v.err;
    RunResult s = run({"sqv", "--keyring", cert(), sig.string(), data.string()});
    EXPECT_EQ(s.exit_code == 0, good) << what << " sqv\n" << s.err;
    RunResult q = run({"sq", "verify", "--signer-cert", cert(), "--detached", sig.string(), data.string()});
    EXPECT_EQ(q.exit_code == 0, good) << what << " sq\n" << q.err;
    RunResult c = catsign({"verify", "--cert", cert(), sig.string(), data.string()}, false);
    EXPECT_EQ(c.exit_code == 0, good) << what << " catsign verify\n" << c.err;
  }

  void expect_cleartext(const GpgHome& gpg, const std::filesystem::path& file, bool good, const std::string& what) const {
    // pkgutil judges a catalog by gpg --verify's exit code alone.
    RunResult g = gpg.verify({file.string()});
    EXPECT_EQ(g.exit_code == 0 && g.out.find("[GNUPG:] GOODSIG") != std::string::npos, good) << what << " gpg\n" << g.err;
    RunResult v = run({"gpgv", "--keyring", (gpg.path() / "pubring.kbx").string(), file.string()});
    EXPECT_EQ(v.exit_code == 0, good) << what << " gpgv\n" << v.err;
    RunResult q = run({"sq", "verify", "--signer-cert", cert(), file.string()});
    EXPECT_EQ(q.exit_code == 0, good) << what << " sq\n" << q.err;
    RunResult c = catsign({"verify", "--cert", cert(), file.string()}, false);
    EXPECT_EQ(c.exit_code == 0, good) << what << " catsign verify\n" << c.err;
  }

  SoftHsmToken hsm_;
  TempDir dir_;
};

TEST_P(KeyTypes, KeyIsSignOnlyOnTheTokenAndGpgSeesItsAlgorithm) {
  const std::string fp = keygen();
  // pkcs11-tool, not catsign, reads the attributes back.
  RunResult t = run({"pkcs11-tool", "--module", SoftHsmToken::module_path(), "--token-label", "catsign", "--login",
                     "--pin", SoftHsmToken::kUserPin, "--list-objects", "--type", "privkey"},
                    "", {{"SOFTHSM2_CONF", hsm_.conf_path()}});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find(std::string("Private Key Object; ") + GetParam().pkcs11_type), std::string::npos) << t.out;
  std::size_t usage = t.out.find("Usage:");
  ASSERT_NE(usage, std::string::npos) << t.out;
  EXPECT_EQ(t.out.substr(usage, t.out.find('\n', usage) - usage).find("decrypt"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("sensitive"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("never extractable"), std::string::npos) << t.out;
  EXPECT_EQ(t.out.find("derive"), std::string::npos) << t.out;

  RunResult g = show(cert());
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(fpr_of(g.out), fp) << g.out;
  auto pub = pub_fields(g.out);
  ASSERT_GT(pub.size(), 6u) << g.out;
  EXPECT_EQ(pub[3], GetParam().gpg_algo) << g.out;
  EXPECT_EQ(pub[6], "") << "no expiry asked for: " << g.out;

  // catsign keys: the one key, sign-only, not always-authenticate, with its fingerprint.
  RunResult k = catsign({"keys", "--config", config()});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  std::size_t row = k.out.find(std::string("key-") + GetParam().algo);
  ASSERT_NE(row, std::string::npos) << k.out;
  std::string line = k.out.substr(row, k.out.find('\n', row) - row);
  EXPECT_NE(line.find(fp), std::string::npos) << line;
  EXPECT_NE(line.find(GetParam().described), std::string::npos) << line;
  EXPECT_NE(line.find(" catalog "), std::string::npos) << line;
  EXPECT_NE(line.find(" yes "), std::string::npos) << "sign-only: " << line;
  EXPECT_EQ(line.substr(line.size() - 2), "no") << "always-authenticate: " << line;
}

TEST_P(KeyTypes, EveryFormVerifiesInEveryClientAndTamperingIsCaught) {
  keygen();
  GpgHome gpg(cert());
  TempDir d;
  const std::string catalog = read_text(std::string(CATSIGN_SOURCE_DIR) + "/tests/data/opencsw/example-catalog.txt");
  write_text(d / "catalog", catalog);
  write_text(d / "dashes", "-----BEGIN PGP SIGNATURE-----\n- x\nFrom the start\ntrailing  \r\nlast");
  for (const char* mode : {"", "--binary", "--clearsign"}) {
    std::vector<std::string> args = {"sign", "--config", config()};
    if (*mode) args.push_back(mode);
    args.insert(args.end(), {(d / "catalog").string(), (d / "dashes").string()});
    RunResult r = catsign(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  for (const char* name : {"catalog", "dashes"}) {
    expect_detached(gpg, d / (std::string(name) + ".asc"), d / name, true, std::string(name) + ".asc");
    expect_detached(gpg, d / (std::string(name) + ".sig"), d / name, true, std::string(name) + ".sig");
    expect_cleartext(gpg, d / (std::string(name) + ".signed"), true, std::string(name) + ".signed");
    EXPECT_EQ(read_text(d / (std::string(name) + ".signed"))
                  .rfind(std::string("-----BEGIN PGP SIGNED MESSAGE-----\nHash: ") + GetParam().hash_header + "\n\n", 0),
              0u);
  }
  // One changed byte in the data, in the cleartext text, in the signature.
  std::string changed = catalog;
  changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 0x01);
  write_text(d / "catalog", changed);
  expect_detached(gpg, d / "catalog.asc", d / "catalog", false, "tampered data (.asc)");
  expect_detached(gpg, d / "catalog.sig", d / "catalog", false, "tampered data (.sig)");
  write_text(d / "catalog", catalog);
  std::string s = read_text(d / "catalog.signed");
  std::size_t pos = s.find("CSWbash");
  ASSERT_NE(pos, std::string::npos);
  s[pos] = 'X';
  write_text(d / "catalog.signed", s);
  expect_cleartext(gpg, d / "catalog.signed", false, "tampered cleartext");
  std::string sig = read_text(d / "catalog.sig");
  sig[sig.size() - 5] = static_cast<char>(sig[sig.size() - 5] ^ 0x10);
  write_text(d / "catalog.sig", sig);
  expect_detached(gpg, d / "catalog.sig", d / "catalog", false, "tampered signature");
}

TEST_P(KeyTypes, ExpiryExtensionAndExportKeepTheFingerprint) {
  const std::string fp = keygen({"--expires", "30d"});
  RunResult g = show(cert());
  auto pub = pub_fields(g.out);
  ASSERT_GT(pub.size(), 6u) << g.out;
  const long created = std::stol(pub[5]);
  ASSERT_FALSE(pub[6].empty()) << "gpg shows no expiry: " << g.out;
  EXPECT_EQ(std::stol(pub[6]) - created, 30L * 86400) << g.out;

  // A signature from before the extension, which the extended certificate must still verify.
  TempDir before;
  write_text(before / "f", "before extension\n");
  ASSERT_EQ(catsign({"sign", "--config", config(), (before / "f").string()}).exit_code, 0);

  // extend: a new self-signature on the token, the certificate rewritten, the same fingerprint.
  RunResult e = catsign({"extend", "--config", config(), "--key", "catalog", "--expires", "400d"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  g = show(cert());
  EXPECT_EQ(fpr_of(g.out), fp) << g.out;
  pub = pub_fields(g.out);
  ASSERT_GT(pub.size(), 6u) << g.out;
  EXPECT_EQ(pub[5], std::to_string(created));
  const long expires = std::stol(pub[6]);
  const long now = static_cast<long>(::time(nullptr));
  EXPECT_GE(expires, now + 400L * 86400 - 60) << g.out;
  EXPECT_LE(expires, now + 400L * 86400 + 60) << g.out;
  // A keyring that knew the old certificate takes the new date on import.
  GpgHome gpg(cert());
  RunResult listed = gpg.gpg({"--with-colons", "--list-keys", fp});
  EXPECT_EQ(pub_fields(listed.out).at(6), std::to_string(expires)) << listed.out;
  TempDir d;
  write_text(d / "f", "after extension\n");
  ASSERT_EQ(catsign({"sign", "--config", config(), (d / "f").string()}).exit_code, 0);
  expect_detached(gpg, d / "f.asc", d / "f", true, "after extension");
  expect_detached(gpg, before / "f.asc", before / "f", true, "made before the extension");

  // export: the certificate rebuilt from the token alone.
  std::filesystem::remove(cert());
  RunResult x = catsign({"export", "--config", config(), "--key", "catalog", "--output", (dir_ / "rebuilt.asc").string()});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  g = show((dir_ / "rebuilt.asc").string());
  EXPECT_EQ(fpr_of(g.out), fp) << g.out;
  pub = pub_fields(g.out);
  ASSERT_GT(pub.size(), 6u) << g.out;
  EXPECT_EQ(pub[5], std::to_string(created));
  EXPECT_EQ(pub[6], std::to_string(expires)) << "export keeps the extended expiry";
  EXPECT_NE(g.out.find("Catalog Test <catalog@example.org>"), std::string::npos) << g.out;
  // The rebuilt certificate verifies what the key signed before.
  RunResult v = run({"sqv", "--keyring", (dir_ / "rebuilt.asc").string(), (d / "f.asc").string(), (d / "f").string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  // To stdout without --output.
  x = catsign({"export", "--config", config()});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_EQ(x.out.rfind("-----BEGIN PGP PUBLIC KEY BLOCK-----", 0), 0u) << x.out;
}

INSTANTIATE_TEST_SUITE_P(Algorithms, KeyTypes, ::testing::ValuesIn(kKeyTypes), param_name);

// The one-shot commands refuse what clients would reject.
class KeyRules : public ::testing::Test {
 protected:
  void write_config(const std::string& object, const std::string& extra = "") {
    write_text(dir_ / "catsign.toml", "[token]\nmodule = \"" + SoftHsmToken::module_path() +
                                          "\"\n\n[keys.catalog]\nuri = \"pkcs11:token=catsign;object=" + object +
                                          "\"\ncertificate = \"" + object + ".asc\"\nrevocation = \"" + object +
                                          ".rev.asc\"\n" + extra);
  }
  std::string config() const { return (dir_ / "catsign.toml").string(); }
  RunResult catsign(std::vector<std::string> args, bool pin = true) const {
    args.insert(args.begin(), kCatsign);
    if (pin) args.insert(args.end(), {"--pin-fd", "3"});
    return run(args, "", {{"SOFTHSM2_CONF", hsm_.conf_path()}}, pin ? &kPinLine : nullptr);
  }
  SoftHsmToken hsm_;
  TempDir dir_;
};

TEST_F(KeyRules, P384RefusesSha256AndAnExpiredKeySignsNothing) {
  write_config("p384");
  ASSERT_EQ(catsign({"keygen", "--config", config(), "--algo", "nistp384", "--uid", "P <p@example.org>",
                     "--expires", "2s"}).exit_code, 0);
  write_text(dir_ / "f", "x\n");
  RunResult r = catsign({"sign", "--config", config(), "--hash", "sha256", (dir_ / "f").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("SHA-384"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "f.asc"));
  ASSERT_EQ(catsign({"sign", "--config", config(), "--hash", "sha512", (dir_ / "f").string()}).exit_code, 0);
  ::sleep(3);  // the key expires two seconds after its creation
  r = catsign({"sign", "--config", config(), "--output", (dir_ / "late.asc").string(), (dir_ / "f").string()});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("has expired"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("catsign extend"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "late.asc"));
  // Extending it brings it back, with the same fingerprint.
  ASSERT_EQ(catsign({"extend", "--config", config(), "--expires", "1d"}).exit_code, 0);
  EXPECT_EQ(catsign({"sign", "--config", config(), "--output", (dir_ / "late.asc").string(), (dir_ / "f").string()}).exit_code, 0);
  RunResult v = run({"sqv", "--keyring", (dir_ / "p384.asc").string(), (dir_ / "late.asc").string(), (dir_ / "f").string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
}

TEST_F(KeyRules, KeygenOptionsAreCheckedBeforeThePin) {
  write_config("k");
  RunResult r = catsign({"keygen", "--config", config(), "--algo", "nistp521", "--uid", "K <k@example.org>"}, false);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = catsign({"keygen", "--config", config(), "--algo", "ed25519", "--bits", "2048", "--uid", "K <k@example.org>"}, false);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("disagree"), std::string::npos) << r.err;
  r = catsign({"keygen", "--config", config()}, false);  // no --uid and no uid in the config
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("uid"), std::string::npos) << r.err;
  r = catsign({"keygen", "--config", config(), "--uid", "K <k@example.org>", "--expires", "soon"}, false);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "k.asc"));
}

TEST_F(KeyRules, ExportNeedsAUidAndARecordedCreationTime) {
  // A key made by another tool: no creation time on the token, so no fingerprint to rebuild.
  hsm_.generate_key_with_pkcs11_tool("foreign", "0f0e");
  write_config("foreign", "uid = \"F <f@example.org>\"\n");
  RunResult r = catsign({"export", "--config", config()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no creation time"), std::string::npos) << r.err;
  write_config("foreign");
  r = catsign({"export", "--config", config()}, false);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("needs uid"), std::string::npos) << r.err;
  // catsign keys lists it, without a fingerprint, and says it is not sign-only
  // (pkcs11-tool's keys can decrypt).
  write_config("foreign", "uid = \"F <f@example.org>\"\n");
  r = catsign({"keys", "--config", config()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::size_t row = r.out.find("foreign");
  ASSERT_NE(row, std::string::npos) << r.out;
  std::string line = r.out.substr(row, r.out.find('\n', row) - row);
  EXPECT_NE(line.find("0f0e"), std::string::npos) << line;
  EXPECT_NE(line.find(" - "), std::string::npos) << "no fingerprint: " << line;
  EXPECT_NE(r.out.find("not sign-only"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace catsign
