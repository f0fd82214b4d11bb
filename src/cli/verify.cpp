// SPDX-License-Identifier: Apache-2.0
// catsign verify: detached (SIG DATA) or cleartext (SIG alone) signatures against one
// certificate; optionally the catalog the signature was made for, and its age.
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "catsign/cli/command.hpp"
#include "catsign/openpgp/certificate_file.hpp"
#include "catsign/openpgp/signing.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/verify.hpp"
#include "catsign/util/duration.hpp"
#include "catsign/util/file.hpp"

namespace catsign::cli {

namespace {

struct VerifyOptions {
  std::string cert;
  std::string expect_catalog;
  std::string max_age;
  std::string signature;
  std::string data;
};

// Cleartext-signed catalogs are read whole; bound them like the daemon bounds catalogs.
constexpr std::uint64_t kMaxSignedMessage = 1ull << 30;

std::string utc(std::uint32_t t) {
  std::time_t tt = t;
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void check_policy(const VerifyOptions& o, const openpgp::Verified& v) {
  if (!o.expect_catalog.empty()) {
    // A catalog that is several tuples at once (testing -> dublin) carries one notation each.
    std::string found;
    for (const openpgp::Notation& n : v.notations) {
      if (n.name != openpgp::kCatalogNotation) continue;
      if (n.value == o.expect_catalog) {
        found.clear();
        break;
      }
      found += (found.empty() ? "" : ", ") + n.value;
    }
    bool named = std::any_of(v.notations.begin(), v.notations.end(),
                             [](const openpgp::Notation& n) { return n.name == openpgp::kCatalogNotation; });
    if (!named)
      throw Error(Errc::bad_signature, "the signature names no catalog (no " + std::string(openpgp::kCatalogNotation) +
                                           " notation), but " + o.expect_catalog + " was expected");
    if (!found.empty())
      throw Error(Errc::bad_signature, "the signature is for catalog " + found + ", not " + o.expect_catalog +
                                           ": it must not be used for this catalog");
  }
  if (!o.max_age.empty()) {
    auto max_age = parse_duration(o.max_age).count();
    long long now = static_cast<long long>(std::time(nullptr));
    long long age = now - static_cast<long long>(v.creation_time);
    if (age > max_age)
      throw Error(Errc::bad_signature, "the signature was made " + utc(v.creation_time) + ", " +
                                           format_duration(std::chrono::seconds(age)) + " ago, older than --max-age " +
                                           o.max_age + ": ask for a fresh signature");
    // A small allowance for clocks that disagree; a signature from the future is suspect.
    if (age < -300)
      throw Error(Errc::bad_signature, "the signature claims to be made in the future (" + utc(v.creation_time) +
                                           "): check the signer's and this machine's clocks");
  }
}

// A detached signature is an armored SIGNATURE block or a binary signature packet (RFC 4880
// §4.2: tag 2, old format 0x88-0x8b, new format 0xc2); a cleartext-signed message starts with
// "-----BEGIN PGP SIGNED MESSAGE-----" instead (§7).
bool is_detached_signature(const Bytes& file) {
  std::string_view text(reinterpret_cast<const char*>(file.data()), std::min<std::size_t>(file.size(), 256));
  std::size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return false;
  if (text.substr(start).rfind("-----BEGIN PGP SIGNATURE-----", 0) == 0) return true;
  std::uint8_t first = file[0];
  return (first & 0xfc) == 0x88 || first == 0xc2;
}

// "catalog" for "catalog.asc" or "catalog.sig"; "FILE" otherwise.
std::string signed_file_guess(const std::string& sig) {
  for (const char* ext : {".asc", ".sig", ".gpg"}) {
    std::string e = ext;
    if (sig.size() > e.size() && sig.compare(sig.size() - e.size(), e.size(), e) == 0)
      return sig.substr(0, sig.size() - e.size());
  }
  return "FILE";
}

int run_verify(const VerifyOptions& o) {
  openpgp::Certificate cert = openpgp::read_certificate_file(o.cert);
  openpgp::Verified v;
  try {
    if (!o.data.empty()) {
      openpgp::Signature sig = openpgp::read_document_signature(read_file(o.signature, 1 << 20));
      v = openpgp::verify_document(cert, sig, [&](openpgp::DocumentHasher& h) {
        read_file_chunks(o.data, [&](ByteView chunk) { h.update(chunk); });
      });
    } else {
      Bytes message = read_file(o.signature, kMaxSignedMessage);
      if (is_detached_signature(message))
        throw Error(Errc::usage, "this is a detached signature: give the signed file after it, e.g. catsign verify "
                                 "--cert " + o.cert + " " + o.signature + " " + signed_file_guess(o.signature));
      v = openpgp::verify_cleartext(
          cert, std::string_view(reinterpret_cast<const char*>(message.data()), message.size()));
    }
    check_policy(o, v);
  } catch (const Error& e) {
    if (e.code() == Errc::io) throw;
    throw Error(e.code(), o.signature + ": " + e.what());
  }
  std::string uid = cert.user_ids.empty() ? std::string() : " \"" + cert.user_ids.front().user_id + "\"";
  std::printf("good signature from %s%s, made %s", openpgp::format_fingerprint(v.signer).c_str(), uid.c_str(),
              utc(v.creation_time).c_str());
  for (const openpgp::Notation& n : v.notations) std::printf(", %s=%s", n.name.c_str(), n.value.c_str());
  std::printf("\n");
  return 0;
}

}  // namespace

void register_verify(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Verify a detached signature (SIG DATA) or a cleartext-signed file (SIG). Exit 0 only when the signature is "
      "good and meets --expect-catalog and --max-age.");
  cmd->add_option("--cert", o->cert, "the signer's OpenPGP certificate (armored or binary)")->required();
  cmd->add_option("--expect-catalog", o->expect_catalog,
                  "require the signature to be made for this catalog, e.g. unstable/i386/5.10");
  cmd->add_option("--max-age", o->max_age, "require the signature to be at most this old, e.g. 8d or 12h");
  cmd->add_option("SIG", o->signature, "signature file (.asc, .sig) or cleartext-signed file")->required();
  cmd->add_option("DATA", o->data, "the signed file, for a detached signature");
  cmd->callback([o, &ctx] { ctx.exit_code = run_verify(*o); });
}

}  // namespace catsign::cli
