// SPDX-License-Identifier: Apache-2.0
// The signing pipeline: one input through every form, with one signer and with two, checked
// by gpg and sqv (detached) and sq (cleartext); the bounded read refuses a source that grew
// or shrank; the facts are the source's own SHA-256 and the signers in order.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "../support/memory_signer.hpp"
#include "../support/process.hpp"
#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/signing/pipeline.hpp"
#include "catsign/util/digest.hpp"
#include "catsign/util/file.hpp"

namespace catsign::signing {
namespace {

using testing::GpgHome;
using testing::MemorySigner;
using testing::RunResult;
using testing::TempDir;
using testing::read_text;
using testing::write_text;

const std::string kText =
    "# a catalog\n"
    "-dash line, escaped in the cleartext form\n"
    "From the start of a line\n"
    "bash 4.1.9,REV=2010.10.26 CSWbash bash-4.1.9.pkg.gz 6c3a0b1e31ee51e9e8c4b66c4a6e63bf 1572014 CSWcommon none\n"
    "trailing blanks   \n"
    "last line without a newline";

struct TestKey {
  explicit TestKey(std::uint32_t created)
      : signer(2048), key(signer, openpgp::PublicKey{created, signer.public_key()}), as_signer(key) {}
  MemorySigner signer;
  openpgp::OpenPgpKey key;
  KeySigner as_signer;
};

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    first_ = new TestKey(1700000000);
    second_ = new TestKey(1700000100);
  }
  static void TearDownTestSuite() {
    delete first_;
    delete second_;
  }

  void SetUp() override {
    data_ = dir_ / "catalog";
    write_text(data_, kText);
    for (auto [key, name] : {std::pair{first_, "first"}, std::pair{second_, "second"}}) {
      std::filesystem::path p = dir_ / (std::string(name) + ".asc");
      write_text(p, openpgp::armor(openpgp::ArmorKind::public_key,
                                   openpgp::make_certificate(key->key, std::string(name) + " <" + name + "@example.org>", {})));
      certs_.push_back(p);
    }
  }

  // Signs the data file through the pipeline into `out`.
  Facts sign_file(Form form, std::span<DocumentSigner* const> signers, const std::filesystem::path& out) {
    std::uint64_t size = 0;
    UniqueFd fd = open_for_reading(data_, &size);
    Facts facts;
    write_file_atomically(out, [&](FileWriter& w) {
      openpgp::SignOptions options;
      options.notations.push_back({openpgp::kCatalogNotation, "unstable/i386/5.10", true});
      Job job(form, options, w);
      job.read({fd.get(), data_.string(), 1 << 20, size});
      facts = job.sign(signers);
    });
    return facts;
  }

  // gpg knowing every certificate, sqv (detached) or sq (cleartext) knowing each one alone.
  void expect_clients_accept(Form form, const std::filesystem::path& sig, std::size_t signers) {
    GpgHome gpg(certs_[0]);
    RunResult imported = gpg.gpg({"--import", certs_[1].string()});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    std::vector<std::string> args = {"--verify-options", "show-notations", "--status-fd", "1", "--verify", sig.string()};
    if (form != Form::cleartext) args.push_back(data_.string());
    RunResult g = gpg.gpg(args);
    EXPECT_EQ(g.exit_code, 0) << suffix_for(form) << " gpg\n" << g.err;
    std::size_t good = 0;
    for (std::size_t at = g.err.find("Good signature"); at != std::string::npos; at = g.err.find("Good signature", at + 1))
      ++good;
    EXPECT_EQ(good, signers) << g.err;
    EXPECT_NE(g.err.find("catalog@catsign=unstable/i386/5.10"), std::string::npos) << g.err;
    for (std::size_t i = 0; i < signers; ++i) {
      RunResult r = form == Form::cleartext
                        ? testing::run({"sq", "verify", "--signer-cert", certs_[i].string(), sig.string()})
                        : testing::run({"sqv", "--keyring", certs_[i].string(), sig.string(), data_.string()});
      EXPECT_EQ(r.exit_code, 0) << suffix_for(form) << " signer " << i << "\n" << r.err;
    }
  }

  static TestKey* first_;
  static TestKey* second_;
  TempDir dir_;
  std::filesystem::path data_;
  std::vector<std::filesystem::path> certs_;
};

TestKey* PipelineTest::first_ = nullptr;
TestKey* PipelineTest::second_ = nullptr;

TEST(PipelineForms, NamesAndSuffixes) {
  EXPECT_STREQ(suffix_for(Form::detached_armored), ".asc");
  EXPECT_STREQ(suffix_for(Form::detached_binary), ".sig");
  EXPECT_STREQ(suffix_for(Form::cleartext), ".signed");
  EXPECT_STREQ(form_name(Form::detached_armored), "armored");
  EXPECT_STREQ(form_name(Form::detached_binary), "binary");
  EXPECT_STREQ(form_name(Form::cleartext), "clearsign");
}

TEST_F(PipelineTest, EveryFormWithOneSignerAndWithTwo) {
  for (Form form : {Form::detached_armored, Form::detached_binary, Form::cleartext}) {
    for (std::size_t n : {1u, 2u}) {
      SCOPED_TRACE(std::string(form_name(form)) + " x" + std::to_string(n));
      std::vector<DocumentSigner*> signers{&first_->as_signer};
      if (n == 2) signers.push_back(&second_->as_signer);
      std::filesystem::path out = dir_ / ("out" + std::to_string(n) + suffix_for(form));
      Facts facts = sign_file(form, signers, out);
      EXPECT_EQ(facts.form, form);
      EXPECT_EQ(to_hex(facts.source_sha256), sha256_hex(kText));
      EXPECT_EQ(facts.source_size, kText.size());
      ASSERT_EQ(facts.keys.size(), n);
      EXPECT_EQ(facts.keys[0], first_->key.fingerprint());
      if (n == 2) {
        EXPECT_EQ(facts.keys[1], second_->key.fingerprint());
      }
      expect_clients_accept(form, out, n);
      // Tampering is caught by the same clients.
      std::string published = read_text(out);
      if (form == Form::cleartext) {
        std::size_t at = published.find("bash 4.1.9");
        ASSERT_NE(at, std::string::npos);
        published[at] = 'B';
        write_text(dir_ / "tampered.signed", published);
        EXPECT_NE(testing::run({"sq", "verify", "--signer-cert", certs_[0].string(), (dir_ / "tampered.signed").string()})
                      .exit_code,
                  0);
      } else {
        write_text(dir_ / "tampered", kText + "x");
        EXPECT_NE(testing::run({"sqv", "--keyring", certs_[0].string(), out.string(), (dir_ / "tampered").string()})
                      .exit_code,
                  0);
      }
    }
  }
}

TEST_F(PipelineTest, SourceSha256IsTheFilesOwnWhateverTheSignatureHash) {
  StringWriter out;
  openpgp::SignOptions options;
  options.hash = HashAlgorithm::sha512;
  Job job(Form::detached_armored, options, out);
  job.update(as_bytes(kText));
  EXPECT_EQ(to_hex(job.source_sha256()), sha256_hex(kText));
  Facts facts = job.sign(first_->as_signer);
  EXPECT_EQ(facts.hash, HashAlgorithm::sha512);
  EXPECT_EQ(to_hex(facts.source_sha256), sha256_hex(kText));
  write_text(dir_ / "sha512.asc", out.text);
  EXPECT_EQ(testing::run({"sqv", "--keyring", certs_[0].string(), (dir_ / "sha512.asc").string(), data_.string()}).exit_code, 0);
}

TEST_F(PipelineTest, ASourceThatGrewOrShrankOrIsTooLargeIsRefused) {
  auto attempt = [&](const std::string& contents, Source source) {
    write_text(data_, contents);
    UniqueFd fd = open_for_reading(data_);
    source.fd = fd.get();
    source.name = "catalog";
    StringWriter out;
    Job job(Form::cleartext, {}, out);
    try {
      job.read(source);
      return std::string();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::refused) << e.what();
      return std::string(e.what());
    }
  };
  // The size checked at open was 10; the file now has more, or less.
  EXPECT_NE(attempt(std::string(11, 'a'), {-1, "", 100, 10}).find("grew while it was read"), std::string::npos);
  EXPECT_NE(attempt(std::string(9, 'a'), {-1, "", 100, 10}).find("shrank while it was read"), std::string::npos);
  EXPECT_EQ(attempt(std::string(10, 'a'), {-1, "", 100, 10}), "");
  // Over the cap, with or without an expected size.
  EXPECT_NE(attempt(std::string(101, 'a'), {-1, "", 100, std::nullopt}).find("larger than the 100-byte limit"),
            std::string::npos);
  EXPECT_NE(attempt(std::string(200, 'a'), {-1, "", 100, 200}).find("larger than the 100-byte limit"), std::string::npos);
  EXPECT_EQ(attempt(std::string(100, 'a'), {-1, "", 100, std::nullopt}), "");
}

TEST_F(PipelineTest, AGrowingSourceIsNeverReadPastItsLimit) {
  // A FIFO that never ends stands in for a file that keeps growing: the read stops one chunk
  // past the limit instead of running on.
  std::filesystem::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // The writer learns that the reader stopped from EPIPE, not from a signal that ends the test.
  struct IgnorePipe {
    IgnorePipe() : old(std::signal(SIGPIPE, SIG_IGN)) {}
    ~IgnorePipe() { std::signal(SIGPIPE, old); }
    void (*old)(int);
  } ignore_pipe;
  std::thread writer([&] {
    UniqueFd w(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
    std::string chunk(1 << 16, 'x');
    for (int i = 0; i < 64; ++i)
      if (::write(w.get(), chunk.data(), chunk.size()) < 0) return;
  });
  UniqueFd r(::open(fifo.c_str(), O_RDONLY | O_CLOEXEC));
  StringWriter out;
  Job job(Form::detached_binary, {}, out);
  EXPECT_THROW(job.read({r.get(), "fifo", 1000, std::nullopt}), Error);
  EXPECT_LE(job.source_size(), 1000u);
  r.reset();
  writer.join();
}

TEST_F(PipelineTest, SignedOnceAndNoInputAfterTheEnd) {
  StringWriter out;
  Job job(Form::detached_binary, {}, out);
  job.update(as_bytes(kText));
  job.sign(first_->as_signer);
  EXPECT_THROW(job.sign(first_->as_signer), Error);
  EXPECT_THROW(job.update(as_bytes("more")), Error);
}

TEST_F(PipelineTest, AFaultySignerPublishesNothing) {
  first_->signer.corrupt_signatures(true);
  StringWriter out;
  Job job(Form::detached_armored, {}, out);
  job.update(as_bytes(kText));
  EXPECT_THROW(job.sign(first_->as_signer), Error);
  first_->signer.corrupt_signatures(false);
  EXPECT_TRUE(out.text.empty());
}

}  // namespace
}  // namespace catsign::signing
