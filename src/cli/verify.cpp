// SPDX-License-Identifier: Apache-2.0
// catsign verify: detached (SIG DATA) or cleartext (SIG alone) signatures against the given
// certificates; optionally the catalog the signature was made for, and its age. A file signed
// by several keys (key rotation) has each signature named with its verdict: good, bad, or
// unknown (by a key no --cert holds). It passes when one is good and none is bad; with --all,
// only when every one is good.
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "catsign/cli/command.hpp"
#include "catsign/openpgp/certificate_file.hpp"
#include "catsign/openpgp/signing.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/verify.hpp"
#include "catsign/openpgp/verify_each.hpp"
#include "catsign/util/duration.hpp"
#include "catsign/util/file.hpp"

namespace catsign::cli {

namespace {

struct VerifyOptions {
  std::vector<std::string> certs;
  bool all = false;
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

std::string uid_of(const openpgp::Certificate& cert) {
  return cert.user_ids.empty() ? std::string() : " \"" + cert.user_ids.front().user_id + "\"";
}

int run_verify(const VerifyOptions& o) {
  std::vector<openpgp::Certificate> certs;
  for (const std::string& path : o.certs) certs.push_back(openpgp::read_certificate_file(path));
  std::vector<openpgp::SignatureReport> reports;
  try {
    if (!o.data.empty()) {
      std::vector<openpgp::Signature> sigs = openpgp::read_document_signatures(read_file(o.signature, 1 << 20));
      reports = openpgp::verify_each(certs, sigs, [&](openpgp::DocumentHasher& h) {
        read_file_chunks(o.data, [&](ByteView chunk) { h.update(chunk); });
      });
    } else {
      Bytes message = read_file(o.signature, kMaxSignedMessage);
      if (is_detached_signature(message))
        throw Error(Errc::usage, "this is a detached signature: give the signed file after it, e.g. catsign verify "
                                 "--cert " + o.certs.front() + " " + o.signature + " " + signed_file_guess(o.signature));
      reports = openpgp::verify_cleartext_each(
          certs, std::string_view(reinterpret_cast<const char*>(message.data()), message.size()));
    }
  } catch (const Error& e) {
    if (e.code() == Errc::io) throw;
    throw Error(e.code(), o.signature + ": " + e.what());
  }
  // A good signature that breaks the caller's policy (another catalog, too old) is bad here.
  for (openpgp::SignatureReport& r : reports) {
    if (r.verdict != openpgp::Verdict::good) continue;
    try {
      check_policy(o, *r.verified);
    } catch (const Error& e) {
      r.verdict = openpgp::Verdict::bad;
      r.reason = e.what();
    }
  }
  std::size_t good = 0, bad = 0, unknown = 0;
  const openpgp::SignatureReport* first_bad = nullptr;
  std::string unknown_issuers;
  for (const openpgp::SignatureReport& r : reports) {
    switch (r.verdict) {
      case openpgp::Verdict::good: {
        ++good;
        std::printf("good signature from %s%s, made %s", r.issuer.c_str(), uid_of(*r.cert).c_str(),
                    utc(r.verified->creation_time).c_str());
        for (const openpgp::Notation& n : r.verified->notations) std::printf(", %s=%s", n.name.c_str(), n.value.c_str());
        std::printf("\n");
        break;
      }
      case openpgp::Verdict::bad:
        ++bad;
        if (!first_bad) first_bad = &r;
        std::printf("bad signature from %s%s: %s\n", r.issuer.c_str(), uid_of(*r.cert).c_str(),
                    r.reason.starts_with("BAD signature: ") ? r.reason.c_str() + 15 : r.reason.c_str());
        break;
      case openpgp::Verdict::unknown:
        ++unknown;
        unknown_issuers += (unknown_issuers.empty() ? "" : ", ") + r.issuer;
        std::printf("unknown signature from %s: no --cert given for that key\n", r.issuer.c_str());
        break;
    }
  }
  std::fflush(stdout);
  if (first_bad)
    throw Error(Errc::bad_signature, o.signature + ": " + first_bad->reason +
                                         (reports.size() > 1 ? " (" + std::to_string(bad) + " of " +
                                                                   std::to_string(reports.size()) + " signatures bad)"
                                                             : ""));
  if (good == 0)
    throw Error(Errc::bad_signature, o.signature + ": no signature by a given certificate (signed by " +
                                         unknown_issuers + "): give the signer's certificate with --cert");
  if (o.all && unknown > 0)
    throw Error(Errc::bad_signature, o.signature + ": --all: " + std::to_string(unknown) + " of " +
                                         std::to_string(reports.size()) + " signatures by keys no --cert holds (" +
                                         unknown_issuers + ")");
  return 0;
}

}  // namespace

void register_verify(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Verify a detached signature (SIG DATA) or a cleartext-signed file (SIG), naming each signature it carries "
      "(good, bad, unknown). Exit 0 only when one signature by a --cert is good and meets --expect-catalog and "
      "--max-age, none is bad, and with --all every one is good.");
  cmd->add_option("--cert", o->certs,
                  "a signer's OpenPGP certificate (armored or binary); repeat it for files signed by several keys")
      ->required()
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
  cmd->add_flag("--all", o->all,
                "require every signature to be good (by default one good signature by a --cert is enough, and "
                "signatures by other keys are named but allowed)");
  cmd->add_option("--expect-catalog", o->expect_catalog,
                  "require the signature to be made for this catalog, e.g. unstable/i386/5.10");
  cmd->add_option("--max-age", o->max_age, "require the signature to be at most this old, e.g. 8d or 12h");
  cmd->add_option("SIG", o->signature, "signature file (.asc, .sig) or cleartext-signed file")->required();
  cmd->add_option("DATA", o->data, "the signed file, for a detached signature");
  cmd->callback([o, &ctx] { ctx.exit_code = run_verify(*o); });
}

}  // namespace catsign::cli
