// SPDX-License-Identifier: Apache-2.0
// catsignd with two catalog keys ([catalogs] key = ["catalog", "catalog-next"], a rotation in
// progress): every catalog it signs carries one signature per key, in every form, each
// accepted by sqv or sq knowing that key alone, both counted by gpg knowing both, both named in
// the audit record and in STATUS.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

TEST(DaemonRotation, TwoCatalogKeysTwoSignatures) {
  DaemonOptions options;
  options.second_catalog_key = true;
  DaemonFixture d(options);
  ASSERT_EQ(d.unlock().code, "OK") << d.log();
  nlohmann::json status = nlohmann::json::parse(d.status());
  ASSERT_EQ(status["key_fingerprints"].size(), 2u) << status.dump();
  EXPECT_EQ(status["key_fingerprint"], status["key_fingerprints"][0]);
  const std::string first = status["key_fingerprints"][0], second = status["key_fingerprints"][1];
  EXPECT_NE(first, second);

  const std::string tuple = "unstable/sparc/5.10";
  for (const std::string& mode : {std::string(""), std::string("armor=no"), std::string("mode=clearsign")}) {
    SCOPED_TRACE(mode);
    Reply r = d.sign(tuple, mode);
    ASSERT_EQ(r.code, "OK") << r.payload;
    const bool cleartext = mode == "mode=clearsign";
    TempDir t;
    const auto sig = t / (cleartext ? "catalog.signed" : "catalog.sig");
    write_text(sig, r.payload);
    const std::string data = d.catalog(tuple).string();
    for (const auto& cert : {d.cert(), d.next_cert()}) {
      RunResult one = cleartext ? run({"sq", "verify", "--signer-cert", cert.string(), sig.string()})
                                : run({"sqv", "--keyring", cert.string(), sig.string(), data});
      EXPECT_EQ(one.exit_code, 0) << cert << "\n" << one.err;
      std::vector<std::string> args = {"verify", "--cert", cert.string(), "--expect-catalog", tuple, sig.string()};
      if (!cleartext) args.push_back(data);
      RunResult c = d.catsign(args);
      EXPECT_EQ(c.exit_code, 0) << c.err;
      EXPECT_EQ(count(c.out, "good signature from "), 1u) << c.out;
      EXPECT_EQ(count(c.out, "unknown signature from "), 1u) << c.out;
    }
    GpgHome gpg(d.cert());
    ASSERT_EQ(gpg.gpg({"--import", d.next_cert().string()}).exit_code, 0);
    std::vector<std::string> args = {"--verify-options", "show-notations", "--status-fd", "1", "--verify", sig.string()};
    if (!cleartext) args.push_back(data);
    RunResult g = gpg.gpg(args);
    EXPECT_EQ(g.exit_code, 0) << g.err;
    EXPECT_EQ(count(g.out, "[GNUPG:] GOODSIG"), 2u) << g.out;
    EXPECT_EQ(count(g.err, "catalog@catsign=" + tuple), 2u) << g.err;
    std::vector<std::string> all = {"verify", "--all", "--cert", d.cert().string(), "--cert", d.next_cert().string(),
                                    "--expect-catalog", tuple, sig.string()};
    if (!cleartext) all.push_back(data);
    RunResult c = d.catsign(all);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(count(c.out, "good signature from "), 2u) << c.out;
    // The audit record names both keys, in signing order.
    nlohmann::json record = nlohmann::json::parse(last_line(read_text(d.audit_log())));
    EXPECT_EQ(record["event"], "sign");
    EXPECT_EQ(record["key"], first + "," + second) << record.dump();
  }
}

}  // namespace
}  // namespace catsign::testing
