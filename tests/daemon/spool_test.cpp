// SPDX-License-Identifier: Apache-2.0
// The spool (docs/DESIGN.md "Contract") on a real catsignd: request files in, signatures that gpg verifies
// out, ERR lines in NAME.err, and hostile request files (oversized, binary, symlinks, FIFOs,
// folders, hard links, odd names) answered or ignored without ever being followed and without
// anything written outside the spool.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "catsign/daemon/protocol.hpp"
#include "catsign/daemon/spool.hpp"
#include "daemon_fixture.hpp"

namespace catsign::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kTuple = "unstable/i386/5.10";

// What a folder tree holds, without following links: path -> kind and content.
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    fs::file_status s = it->symlink_status();
    std::string rel = it->path().lexically_relative(root).string();  // relative() would follow links
    if (fs::is_symlink(s)) out[rel] = "link:" + fs::read_symlink(it->path()).string();
    else if (fs::is_regular_file(s)) out[rel] = "file:" + read_text(it->path());
    else if (fs::is_directory(s)) out[rel] = "dir";
    else out[rel] = "other";
  }
  return out;
}

std::map<std::string, std::string> without_spool(std::map<std::string, std::string> m) {
  std::erase_if(m, [](const auto& kv) { return kv.first == "spool" || kv.first.rfind("spool/", 0) == 0; });
  return m;
}

// A daemon whose [spool] dir is in a tree of the test's own, beside a folder "outside" that
// must never change. The spool exists before the daemon starts, as packaging makes it.
class SpoolDaemon {
 public:
  explicit SpoolDaemon(DaemonOptions options = {}) : tree_(), ready_(prepare(tree_)), d_(with_spool(options)) {}

  DaemonFixture& d() { return d_; }
  fs::path spool() const { return tree_ / "spool"; }
  fs::path outside() const { return tree_ / "outside"; }
  const fs::path& tree() const { return tree_.path(); }

  // Like a careful client: NAME.req.tmp, then a rename to NAME.req.
  void drop(const std::string& name, const std::string& text) const {
    write_text(spool() / (name + ".tmp"), text);
    fs::rename(spool() / (name + ".tmp"), spool() / name);
  }
  std::string sign_line(const std::string& options = "") const {
    return "SIGN " + kTuple + " sha256=" + d_.sha256_of(kTuple) + (options.empty() ? "" : " " + options) + "\n";
  }

  // Waits until NAME.req is gone and an answer is there; returns the answer's suffix.
  std::optional<std::string> wait_answer(const std::string& stem, int timeout_s = 30) const {
    auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    while (Clock::now() < deadline) {
      if (!fs::exists(fs::symlink_status(spool() / (stem + ".req")))) {
        for (const char* s : {".asc", ".sig", ".signed", ".err"}) {
          fs::file_status st = fs::symlink_status(spool() / (stem + s));
          if (fs::is_regular_file(st)) return std::string(s);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
  }

 private:
  static bool prepare(const TempDir& t) {
    fs::create_directories(t / "spool");
    fs::create_directories(t / "outside");
    write_text(t / "outside/target", "outside, untouched\n");
    return true;
  }
  DaemonOptions with_spool(DaemonOptions o) const {
    o.extra_config += "\n[spool]\ndir = \"" + (tree_ / "spool").string() + "\"\n";
    return o;
  }

  TempDir tree_;
  bool ready_;
  DaemonFixture d_;
};

long long signatures_of(const DaemonFixture& d) {
  return nlohmann::json::parse(d.status())["signatures"].get<long long>();
}

std::vector<nlohmann::json> audit_records(const DaemonFixture& d) {
  std::vector<nlohmann::json> out;
  std::istringstream log(read_text(d.audit_log()));
  for (std::string line; std::getline(log, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

void expect_audit_verifies(const DaemonFixture& d) {
  RunResult v = d.catsign({"audit", "verify", d.audit_log().string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

void expect_answer_file(const fs::path& p) {
  struct stat st {};
  ASSERT_EQ(::lstat(p.c_str(), &st), 0) << p;
  EXPECT_TRUE(S_ISREG(st.st_mode)) << p;
  EXPECT_EQ(st.st_mode & 07777, 0640u) << p;
}

TEST(DaemonSpool, StemsAndSuffixes) {
  using daemon::spool_request_stem;
  EXPECT_EQ(spool_request_stem("cat-1_x.y.req"), "cat-1_x.y");
  EXPECT_EQ(spool_request_stem("..req"), ".");
  EXPECT_EQ(spool_request_stem(std::string(100, 'a') + ".req"), std::string(100, 'a'));
  for (const std::string& bad : std::vector<std::string>{".req", "a.req.tmp", "a.REQ", "a b.req", "a/b.req", "\xc3\xbc.req", "a\n.req",
                          std::string(101, 'a') + ".req", "a.asc", std::string("a\0b.req", 7)})
    EXPECT_EQ(spool_request_stem(bad), std::nullopt) << bad;
  daemon::Request r;
  EXPECT_STREQ(daemon::spool_answer_suffix(r), ".asc");
  r.form = signing::Form::detached_binary;
  EXPECT_STREQ(daemon::spool_answer_suffix(r), ".sig");
  r.form = signing::Form::cleartext;
  EXPECT_STREQ(daemon::spool_answer_suffix(r), ".signed");
}

TEST(DaemonSpool, SignsWhileUnlockedGpgVerifiesAndRequestIsRemoved) {
  SpoolDaemon s;
  auto before = without_spool(snapshot(s.tree()));
  ASSERT_EQ(s.d().unlock().code, "OK") << s.d().log();
  s.drop("cat1.req", s.sign_line());
  ASSERT_EQ(s.wait_answer("cat1"), ".asc") << s.d().log();
  EXPECT_FALSE(fs::exists(s.spool() / "cat1.req"));
  expect_answer_file(s.spool() / "cat1.asc");
  GpgHome gpg(s.d().cert());
  RunResult v = gpg.verify({(s.spool() / "cat1.asc").string(), s.d().catalog(kTuple).string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("[GNUPG:] GOODSIG"), std::string::npos) << v.out;
  // The audit log names the file's owner as the peer.
  std::string audit = read_text(s.d().audit_log());
  EXPECT_NE(audit.find("\"uid\":" + std::to_string(::getuid())), std::string::npos) << audit;
  EXPECT_EQ(without_spool(snapshot(s.tree())), before);
  // Only the answer is left: no temporary files.
  EXPECT_EQ(snapshot(s.spool()).size(), 1u);
}

TEST(DaemonSpool, LockedAnswersErrLocked) {
  SpoolDaemon s;
  s.drop("locked.req", s.sign_line());
  ASSERT_EQ(s.wait_answer("locked"), ".err") << s.d().log();
  std::string err = read_text(s.spool() / "locked.err");
  EXPECT_EQ(err.rfind("ERR LOCKED ", 0), 0u) << err;
  EXPECT_EQ(err.back(), '\n');
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
  expect_answer_file(s.spool() / "locked.err");
}

TEST(DaemonSpool, BinaryAndClearsignAnswers) {
  SpoolDaemon s;
  ASSERT_EQ(s.d().unlock().code, "OK");
  s.drop("bin.req", s.sign_line("armor=no"));
  s.drop("clear.req", s.sign_line("mode=clearsign"));
  s.drop("junk.req", "SIGN " + kTuple + " sha256=" + std::string(64, '0') + "\n");  // wrong hash
  ASSERT_EQ(s.wait_answer("bin"), ".sig") << s.d().log();
  ASSERT_EQ(s.wait_answer("clear"), ".signed") << s.d().log();
  // SIGNPKG goes through too; this daemon has no [packages], so it is refused, in NAME.err.
  s.drop("pkg.req", "SIGNPKG foo.pkg.gz sha256=" + std::string(64, '0') + "\n");
  ASSERT_EQ(s.wait_answer("junk"), ".err") << s.d().log();
  EXPECT_EQ(read_text(s.spool() / "junk.err").rfind("ERR HASH_MISMATCH ", 0), 0u);
  ASSERT_EQ(s.wait_answer("pkg"), ".err") << s.d().log();
  EXPECT_EQ(read_text(s.spool() / "pkg.err").rfind("ERR DENIED ", 0), 0u) << read_text(s.spool() / "pkg.err");
  std::string sig = read_text(s.spool() / "bin.sig");
  ASSERT_FALSE(sig.empty());
  EXPECT_EQ(static_cast<unsigned char>(sig[0]) & 0x80, 0x80);  // a binary packet, not armor
  GpgHome gpg(s.d().cert());
  RunResult v = gpg.verify({(s.spool() / "bin.sig").string(), s.d().catalog(kTuple).string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  v = gpg.verify({(s.spool() / "clear.signed").string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("[GNUPG:] GOODSIG"), std::string::npos) << v.out;
  // A new request of the same name replaces the old answer of another kind.
  s.drop("junk.req", s.sign_line());
  ASSERT_EQ(s.wait_answer("junk"), ".asc") << s.d().log();
  EXPECT_FALSE(fs::exists(s.spool() / "junk.err"));
}

TEST(DaemonSpool, HostileRequestsAreAnsweredOrIgnoredNeverFollowed) {
  SpoolDaemon s;
  ASSERT_EQ(s.d().unlock().code, "OK");
  const std::string passwd_before = read_text("/etc/passwd");
  const std::string passwd_head = passwd_before.substr(0, passwd_before.find('\n'));
  auto before = without_spool(snapshot(s.tree()));
  const fs::path sp = s.spool();

  s.drop("big.req", std::string(5000, 'A'));
  s.drop("nearly.req", s.sign_line() + std::string(1100, ' '));
  s.drop("binary.req", std::string("SIGN \x01\x02\xff\xfe\0junk", 15));
  s.drop("twolines.req", s.sign_line() + "PING\n");
  s.drop("status.req", "STATUS\n");
  s.drop("empty.req", "");
  fs::create_symlink("/etc/passwd", sp / "passwd.req");
  ASSERT_EQ(::mkfifo((sp / "fifo.req").c_str(), 0600), 0);
  fs::create_directory(sp / "x.req");
  // A hard link to a file elsewhere: its content must not come back in an answer.
  write_text(s.outside() / "secret", "SECRET-CONTENT-4711\n");
  fs::create_hard_link(s.outside() / "secret", sp / "hardlink.req");
  before = without_spool(snapshot(s.tree()));
  // Names a request may not have: ignored, never answered, never removed.
  const std::vector<std::string> ignored = {"a b.req", "\xc3\xbcml\xc3\xa4ut.req", "tab\t.req",
                                            std::string(101, 'n') + ".req"};
  for (const std::string& n : ignored) s.drop(n, s.sign_line());
  // "..req" is a safe name (NAME "."): a valid request in it is signed as "..asc".
  s.drop("..req", s.sign_line());

  for (const char* stem : {"big", "nearly", "binary", "twolines", "status", "empty", "passwd", "fifo", "x",
                           "hardlink"}) {
    auto a = s.wait_answer(stem);
    ASSERT_EQ(a, ".err") << stem << "\n" << s.d().log();
    std::string err = read_text(sp / (std::string(stem) + ".err"));
    EXPECT_EQ(err.rfind("ERR BAD_REQUEST ", 0), 0u) << stem << ": " << err;
    expect_answer_file(sp / (std::string(stem) + ".err"));
  }
  EXPECT_NE(read_text(sp / "passwd.err").find("not a regular file"), std::string::npos);
  EXPECT_NE(read_text(sp / "fifo.err").find("not a regular file"), std::string::npos);
  EXPECT_NE(read_text(sp / "x.err").find("not a regular file"), std::string::npos);
  EXPECT_NE(read_text(sp / "hardlink.err").find("hard links"), std::string::npos);
  EXPECT_NE(read_text(sp / "big.err").find("larger than"), std::string::npos);
  EXPECT_EQ(s.wait_answer("."), ".asc") << s.d().log();
  expect_answer_file(sp / "..asc");

  // One rescan later: the ignored files are still there, unanswered, and logged once each.
  std::this_thread::sleep_for(std::chrono::seconds(7));
  for (const std::string& n : ignored) {
    EXPECT_TRUE(fs::exists(sp / n)) << n;
    std::string stem = n.substr(0, n.size() - 4);
    for (const char* suf : {".asc", ".sig", ".signed", ".err"}) EXPECT_FALSE(fs::exists(sp / (stem + suf))) << n;
  }
  std::string log = s.d().log();
  std::size_t at = log.find("ignoring 'a b.req'");
  ASSERT_NE(at, std::string::npos) << log;
  EXPECT_EQ(log.find("ignoring 'a b.req'", at + 1), std::string::npos) << log;

  // Nothing followed, nothing leaked, nothing written outside, and the daemon still serves.
  EXPECT_EQ(read_text("/etc/passwd"), passwd_before);
  EXPECT_EQ(read_text(s.outside() / "secret"), "SECRET-CONTENT-4711\n");
  for (const auto& [name, what] : snapshot(sp)) {
    EXPECT_EQ(what.find(passwd_head), std::string::npos) << name;
    EXPECT_EQ(what.find("SECRET-CONTENT"), std::string::npos) << name;
  }
  std::string audit = read_text(s.d().audit_log());
  EXPECT_EQ(audit.find(passwd_head), std::string::npos);
  EXPECT_EQ(audit.find("SECRET-CONTENT"), std::string::npos);
  // The hard link was answered and removed; the file it pointed at is where it was.
  EXPECT_EQ(without_spool(snapshot(s.tree())), before);
  EXPECT_EQ(s.d().raw("PING\n").code, "OK");
  EXPECT_TRUE(s.d().running());
}

TEST(DaemonSpool, SymlinkedAnswerIsReplacedNotFollowed) {
  SpoolDaemon s;
  ASSERT_EQ(s.d().unlock().code, "OK");
  fs::create_symlink(s.outside() / "target", s.spool() / "evil.asc");
  fs::create_symlink(s.outside() / "target", s.spool() / "evil.err");  // a stale answer of another kind
  auto before = without_spool(snapshot(s.tree()));
  s.drop("evil.req", s.sign_line());
  ASSERT_EQ(s.wait_answer("evil"), ".asc") << s.d().log();
  expect_answer_file(s.spool() / "evil.asc");
  EXPECT_FALSE(fs::exists(fs::symlink_status(s.spool() / "evil.err")));  // the link, removed; not its target
  EXPECT_EQ(read_text(s.outside() / "target"), "outside, untouched\n");
  EXPECT_EQ(without_spool(snapshot(s.tree())), before);
  GpgHome gpg(s.d().cert());
  RunResult v = gpg.verify({(s.spool() / "evil.asc").string(), s.d().catalog(kTuple).string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
}

TEST(DaemonSpool, RequestPresentBeforeStartIsAnswered) {
  SpoolDaemon s;
  s.d().stop();
  s.drop("early.req", s.sign_line());
  s.d().start();
  ASSERT_EQ(s.wait_answer("early"), ".err") << s.d().log();  // a fresh daemon is locked
  EXPECT_EQ(read_text(s.spool() / "early.err").rfind("ERR LOCKED ", 0), 0u);
}

TEST(DaemonSpool, UnanswerableRequestIsLeftAndRetriedWithoutSpinning) {
  SpoolDaemon s;
  // The answer can't be renamed over a folder that is not empty.
  fs::create_directories(s.spool() / "stuck.err" / "inside");
  s.drop("stuck.req", s.sign_line());
  std::this_thread::sleep_for(std::chrono::seconds(8));
  EXPECT_TRUE(fs::exists(s.spool() / "stuck.req"));
  std::string log = s.d().log();
  std::size_t attempts = 0;
  for (std::size_t p = log.find("stuck.req left in place"); p != std::string::npos;
       p = log.find("stuck.req left in place", p + 1))
    ++attempts;
  EXPECT_GE(attempts, 1u) << log;
  EXPECT_LE(attempts, 3u) << log;
  // No temporary files are left behind by the failed attempts.
  for (const auto& [name, what] : snapshot(s.spool())) EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name;
  EXPECT_EQ(s.d().raw("PING\n").code, "OK");
  // Once the obstacle is gone, a later rescan answers it.
  fs::remove_all(s.spool() / "stuck.err");
  ASSERT_EQ(s.wait_answer("stuck", 60), ".err") << s.d().log();
  EXPECT_EQ(read_text(s.spool() / "stuck.err").rfind("ERR LOCKED ", 0), 0u);
}

TEST(DaemonSpool, AFolderWhereTheAnswerGoesIsRefusedBeforeAnythingIsSigned) {
  SpoolDaemon s;
  ASSERT_EQ(s.d().unlock().code, "OK");
  fs::create_directories(s.spool() / "dir.asc" / "inside");
  s.drop("dir.req", s.sign_line());
  ASSERT_EQ(s.wait_answer("dir"), ".err") << s.d().log();
  std::string err = read_text(s.spool() / "dir.err");
  EXPECT_EQ(err.rfind("ERR BAD_REQUEST ", 0), 0u) << err;
  EXPECT_NE(err.find("dir.asc is a folder"), std::string::npos) << err;
  EXPECT_NE(err.find("nothing was signed"), std::string::npos) << err;
  EXPECT_TRUE(fs::is_directory(s.spool() / "dir.asc" / "inside"));
  EXPECT_EQ(signatures_of(s.d()), 0);

  // With NAME.err in the way too, the request stays and is tried again, never signed.
  fs::create_directories(s.spool() / "both.asc" / "inside");
  fs::create_directories(s.spool() / "both.err" / "inside");
  s.drop("both.req", s.sign_line());
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (count_of(s.d().log(), "both.req left in place") < 2 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_GE(count_of(s.d().log(), "both.req left in place"), 2u) << s.d().log();
  EXPECT_TRUE(fs::exists(s.spool() / "both.req"));
  EXPECT_EQ(signatures_of(s.d()), 0) << "a request was signed though its answer could not be placed";

  // Once the way is clear, it is signed, once.
  fs::remove_all(s.spool() / "both.asc");
  fs::remove_all(s.spool() / "both.err");
  ASSERT_EQ(s.wait_answer("both", 60), ".asc") << s.d().log();
  EXPECT_EQ(signatures_of(s.d()), 1);
  GpgHome gpg(s.d().cert());
  RunResult v = gpg.verify({(s.spool() / "both.asc").string(), s.d().catalog(kTuple).string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(s.d().raw("PING\n").code, "OK");
  expect_audit_verifies(s.d());
}

TEST(DaemonSpool, ARequestIsSignedAtMostOnceWhileItsAnswerKeepsTurningIntoAFolder) {
  SpoolDaemon s;
  ASSERT_EQ(s.d().unlock().code, "OK");
  constexpr int kRequests = 5;
  auto answer_path = [&](int n) { return s.spool() / ("race" + std::to_string(n) + ".asc"); };
  // A folder appears and goes at each answer's name, before and after the check.
  std::atomic<bool> stop{false};
  std::thread flipper([&] {
    for (int i = 0; !stop.load() && i < 200000; ++i) {
      for (int n = 0; n < kRequests; ++n) {
        if (i % 2 == 0)
          (void)::mkdir(answer_path(n).c_str(), 0755);  // EEXIST once the answer is a file
        else
          (void)::rmdir(answer_path(n).c_str());  // ENOTDIR once the answer is a file
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  for (int n = 0; n < kRequests; ++n) s.drop("race" + std::to_string(n) + ".req", s.sign_line());
  std::vector<std::optional<std::string>> answers;
  for (int n = 0; n < kRequests; ++n) answers.push_back(s.wait_answer("race" + std::to_string(n), 60));
  stop = true;
  flipper.join();
  long long signed_ = 0;
  GpgHome gpg(s.d().cert());
  for (int n = 0; n < kRequests; ++n) {
    SCOPED_TRACE("race" + std::to_string(n));
    ASSERT_TRUE(answers[static_cast<std::size_t>(n)]) << s.d().log();
    const std::string stem = s.spool() / ("race" + std::to_string(n));
    if (*answers[static_cast<std::size_t>(n)] == ".asc") {
      ++signed_;
      RunResult v = gpg.verify({stem + ".asc", s.d().catalog(kTuple).string()});
      EXPECT_EQ(v.exit_code, 0) << v.err;
      continue;
    }
    ASSERT_EQ(*answers[static_cast<std::size_t>(n)], ".err");
    std::string err = read_text(stem + ".err");
    if (err.find("the signature was made") != std::string::npos) {
      ++signed_;  // signed, but the folder came back before the answer was placed
      EXPECT_EQ(err.rfind("ERR INTERNAL ", 0), 0u) << err;
    } else {
      EXPECT_NE(err.find("nothing was signed"), std::string::npos) << err;
    }
  }
  for (int n = 0; n < kRequests; ++n) (void)::rmdir(answer_path(n).c_str());
  EXPECT_EQ(signatures_of(s.d()), signed_);
  // Nothing is left to be signed again: one rescan later the count is the same.
  for (int n = 0; n < kRequests; ++n) EXPECT_FALSE(fs::exists(s.spool() / ("race" + std::to_string(n) + ".req")));
  std::this_thread::sleep_for(std::chrono::seconds(7));
  EXPECT_EQ(signatures_of(s.d()), signed_);
  expect_audit_verifies(s.d());
}

TEST(DaemonSpool, RequestOwnersAreJudgedLikePeersOfTheSignSocket) {
  if (::getuid() != 0) GTEST_FAIL() << "this test needs root to give request files other owners";
  const passwd* nobody = ::getpwuid(65534);
  ASSERT_TRUE(nobody && nobody->pw_gid == 65534) << "uid 65534 must be nobody, group 65534, in /etc/passwd";
  for (uid_t unknown : {4242u, 4243u, 4244u})
    ASSERT_EQ(::getpwuid(unknown), nullptr) << "uid " << unknown << " must be unknown to the user database";
  DaemonOptions options;
  options.sign_uids = "[4243]";
  options.sign_gids = "[65534]";
  SpoolDaemon s(options);
  ASSERT_EQ(s.d().unlock().code, "OK");
  auto drop_as = [&](const std::string& name, uid_t uid, gid_t gid) {
    const fs::path tmp = s.spool() / (name + ".tmp");
    write_text(tmp, s.sign_line());
    ASSERT_EQ(::chown(tmp.c_str(), uid, gid), 0) << std::strerror(errno);
    fs::rename(tmp, s.spool() / name);
  };
  s.drop("own.req", s.sign_line());       // the daemon's own uid
  drop_as("listed.req", 4243, 4243);      // in sign_uids
  drop_as("member.req", 65534, 65534);    // nobody, whose group by the user database is in sign_gids
  drop_as("stranger.req", 4242, 65534);   // the file's group is allowed; its owner is not
  drop_as("other.req", 4244, 0);
  for (const char* stem : {"own", "listed", "member"}) {
    ASSERT_EQ(s.wait_answer(stem), ".asc") << stem << "\n" << s.d().log();
  }
  for (const auto& [stem, uid] : std::vector<std::pair<std::string, uid_t>>{{"stranger", 4242}, {"other", 4244}}) {
    ASSERT_EQ(s.wait_answer(stem), ".err") << stem << "\n" << s.d().log();
    std::string err = read_text(s.spool() / (stem + ".err"));
    EXPECT_EQ(err.rfind("ERR DENIED ", 0), 0u) << err;
    EXPECT_NE(err.find("uid " + std::to_string(uid) + ", the owner of " + stem + ".req, may not ask for signatures"),
              std::string::npos) << err;
  }
  EXPECT_EQ(signatures_of(s.d()), 3);
  GpgHome gpg(s.d().cert());
  RunResult v = gpg.verify({(s.spool() / "member.asc").string(), s.d().catalog(kTuple).string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  // The audit log names each owner: signed for the allowed ones, refused for the others.
  std::set<long long> signed_for, refused;
  for (const nlohmann::json& j : audit_records(s.d())) {
    if (j["event"] == "sign" && j["result"] == "ok") signed_for.insert(j["peer"]["uid"].get<long long>());
    if (j["event"] == "refuse" && j["code"] == "DENIED") refused.insert(j["peer"]["uid"].get<long long>());
  }
  EXPECT_EQ(signed_for, (std::set<long long>{static_cast<long long>(::getuid()), 4243, 65534}));
  EXPECT_EQ(refused, (std::set<long long>{4242, 4244}));
  expect_audit_verifies(s.d());
}

}  // namespace
}  // namespace catsign::testing
