// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/audit_log.hpp"

#include <botan/hash.h>
#include <botan/hex.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../support/process.hpp"
#include "catsign/error.hpp"

namespace catsign::daemon {
namespace {

using catsign::testing::read_text;
using catsign::testing::TempDir;
using catsign::testing::write_text;
using nlohmann::json;

std::vector<std::string> lines_of(const std::filesystem::path& p) {
  std::vector<std::string> out;
  std::string text = read_text(p);
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t lf = text.find('\n', start);
    if (lf == std::string::npos) {
      out.push_back(text.substr(start));
      break;
    }
    out.push_back(text.substr(start, lf - start));
    start = lf + 1;
  }
  return out;
}

void write_lines(const std::filesystem::path& p, const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  write_text(p, text);
}

// A log of n sign records, closed again.
std::filesystem::path make_log(const TempDir& d, int n) {
  std::filesystem::path p = d / "audit.jsonl";
  AuditLog log(p);
  for (int i = 0; i < n; ++i) log.append({{"event", "sign"}, {"n", i}, {"tuple", "unstable/i386/5.10"}});
  return p;
}

TEST(AuditLog, CreatesTheLogWithMode0640AndStartsTheChainWithZeros) {
  TempDir d;
  std::filesystem::path p = d / "audit.jsonl";
  {
    AuditLog log(p);
    EXPECT_EQ(log.path(), p);
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    EXPECT_EQ(st.st_size, 0);
    log.append({{"event", "unlock"}, {"uid", 0}});
  }
  auto lines = lines_of(p);
  ASSERT_EQ(lines.size(), 1u);
  json j = json::parse(lines[0]);
  EXPECT_EQ(j["event"], "unlock");
  EXPECT_EQ(j["prev"], std::string(64, '0'));
  // RFC 3339 UTC with milliseconds: 2026-01-02T03:04:05.678Z
  std::string t = j["time"];
  ASSERT_EQ(t.size(), 24u) << t;
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t[19], '.');
  EXPECT_EQ(t.back(), 'Z');
}

TEST(AuditLog, AppendSetsTimeAndPrevEvenWhenTheCallerSuppliesThem) {
  TempDir d;
  std::filesystem::path p = d / "audit.jsonl";
  {
    AuditLog log(p);
    log.append({{"event", "sign"}, {"prev", "forged"}, {"time", "1970-01-01T00:00:00.000Z"}});
  }
  json j = json::parse(lines_of(p).at(0));
  EXPECT_EQ(j["prev"], std::string(64, '0'));
  EXPECT_NE(j["time"], "1970-01-01T00:00:00.000Z");
  EXPECT_TRUE(verify_audit_log(p).ok);
}

TEST(AuditLog, RejectsRecordsThatVerifyWouldCallBroken) {
  TempDir d;
  AuditLog log(d / "audit.jsonl");
  EXPECT_THROW(log.append(json::array({1, 2})), Error);
  EXPECT_THROW(log.append({{"what", "no event"}}), Error);
  EXPECT_THROW(log.append({{"event", 7}}), Error);
  EXPECT_THROW(log.append({{"event", "big"}, {"blob", std::string(70000, 'x')}}), Error);
  log.append({{"event", "fine"}});
  EXPECT_EQ(lines_of(log.path()).size(), 1u);
  auto r = verify_audit_log(log.path());
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.lines, 1u);
}

TEST(AuditLog, ConcurrentAppendsFromEightThreadsMakeOneValidChain) {
  TempDir d;
  std::filesystem::path p = d / "audit.jsonl";
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;  // each append fsyncs: keep the test quick
  {
    AuditLog log(p);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kPerThread; ++i)
          log.append({{"event", "sign"}, {"thread", t}, {"i", i}, {"pad", std::string(static_cast<std::size_t>(i), 'p')}});
      });
    for (auto& th : threads) th.join();
  }
  auto r = verify_audit_log(p);
  EXPECT_TRUE(r.ok) << "line " << r.first_bad_line << ": " << r.reason;
  EXPECT_EQ(r.lines, static_cast<std::uint64_t>(kThreads * kPerThread));
  auto lines = lines_of(p);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::set<std::pair<int, int>> seen;
  for (const std::string& l : lines) {
    json j = json::parse(l);
    ASSERT_TRUE(j.is_object());
    seen.insert({j["thread"].get<int>(), j["i"].get<int>()});
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

// A record is in the file as soon as write returns; sync waits for the disk, for its record
// and every one before it, in any order of asking.
TEST(AuditLog, WriteGivesOrderedTicketsAndSyncCoversEveryEarlierRecord) {
  TempDir d;
  std::filesystem::path p = d / "audit.jsonl";
  {
    AuditLog log(p);
    AuditLog::Ticket a = log.write({{"event", "signing"}, {"n", 1}});
    AuditLog::Ticket b = log.write({{"event", "sign"}, {"n", 2}});
    AuditLog::Ticket c = log.write({{"event", "sign"}, {"n", 3}});
    EXPECT_LT(a, b);
    EXPECT_LT(b, c);
    EXPECT_EQ(lines_of(p).size(), 3u);
    log.sync(b);
    log.sync(a);  // already covered
    log.sync(c);
    log.append({{"event", "lock"}});
    EXPECT_EQ(lines_of(p).size(), 4u);
  }
  auto r = verify_audit_log(p);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.lines, 4u);
}

// Records nobody waits for, mixed with records that are waited for, from several threads:
// one valid chain, every record in it once the log is closed.
TEST(AuditLog, AppendSoonAndAppendFromSeveralThreadsMakeOneValidChain) {
  TempDir d;
  std::filesystem::path p = d / "audit.jsonl";
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  {
    AuditLog log(p);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kPerThread; ++i) {
          if (i % 2 == 0) {
            log.append({{"event", "signing"}, {"thread", t}, {"i", i}});
          } else {
            log.append_soon({{"event", "sign"}, {"thread", t}, {"i", i}});
          }
        }
      });
    for (auto& th : threads) th.join();
  }
  auto r = verify_audit_log(p);
  EXPECT_TRUE(r.ok) << "line " << r.first_bad_line << ": " << r.reason;
  EXPECT_EQ(r.lines, static_cast<std::uint64_t>(kThreads * kPerThread));
  std::set<std::pair<int, int>> seen;
  for (const std::string& l : lines_of(p)) {
    json j = json::parse(l);
    seen.insert({j["thread"].get<int>(), j["i"].get<int>()});
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(AuditLog, ReopenContinuesTheChain) {
  TempDir d;
  std::filesystem::path p = make_log(d, 3);
  {
    AuditLog log(p);
    log.append({{"event", "lock"}, {"reason", "night"}});
  }
  {
    AuditLog log(p);
    log.append({{"event", "unlock"}});
  }
  auto r = verify_audit_log(p);
  EXPECT_TRUE(r.ok) << "line " << r.first_bad_line << ": " << r.reason;
  EXPECT_EQ(r.lines, 5u);
}

TEST(AuditLog, ReopenFindsTheLastLineWhenItIsLongerThanOneReadChunk) {
  TempDir d;
  std::filesystem::path p = make_log(d, 50);
  {
    AuditLog log(p);
    log.append({{"event", "refusal"}, {"message", std::string(60000, 'm')}});
  }
  {
    AuditLog log(p);
    log.append({{"event", "sign"}});
  }
  auto r = verify_audit_log(p);
  EXPECT_TRUE(r.ok) << "line " << r.first_bad_line << ": " << r.reason;
  EXPECT_EQ(r.lines, 52u);
}

std::string sha256_hex(const std::string& s) {
  auto h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(s);
  return Botan::hex_encode(h->final(), false);
}

// Rotation as logrotate does it: rename the open file, then reopen (what SIGHUP calls).
TEST(AuditLog, RenameThenReopenGoesOnInANewFileThatCarriesTheChain) {
  TempDir d;
  std::filesystem::path p = d / "audit.jsonl";
  std::filesystem::path old = d / "audit.jsonl-20261201";
  AuditLog log(p);
  for (int i = 0; i < 3; ++i) log.append({{"event", "sign"}, {"n", i}});
  std::filesystem::rename(p, old);
  log.append({{"event", "sign"}, {"n", 3}});  // still the open file, under its new name
  std::optional<std::filesystem::path> previous = log.reopen();
  ASSERT_TRUE(previous.has_value());
  EXPECT_EQ(*previous, old);
  log.append({{"event", "sign"}, {"n", 4}});

  auto old_lines = lines_of(old);
  ASSERT_EQ(old_lines.size(), 4u);  // nothing was lost at the rename
  auto new_lines = lines_of(p);
  ASSERT_EQ(new_lines.size(), 2u);
  json first = json::parse(new_lines[0]);
  EXPECT_EQ(first["event"], "continue");
  EXPECT_EQ(first["previous_file"], "audit.jsonl-20261201");
  EXPECT_EQ(first["prev"], sha256_hex(old_lines.back()));  // the hash of the previous file's last line
  EXPECT_EQ(json::parse(new_lines[1])["n"], 4);

  AuditVerifyResult a = verify_audit_log(old);
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_EQ(a.continues, "");
  EXPECT_EQ(a.last_hash, sha256_hex(old_lines.back()));
  AuditVerifyResult b = verify_audit_log(p, a.last_hash);
  EXPECT_TRUE(b.ok) << b.reason;
  EXPECT_EQ(b.lines, 2u);
  EXPECT_EQ(b.continues, "audit.jsonl-20261201");
  // Alone, the later file holds together and says what it continues.
  AuditVerifyResult alone = verify_audit_log(p);
  EXPECT_TRUE(alone.ok) << alone.reason;
  EXPECT_EQ(alone.continues, "audit.jsonl-20261201");
  // Against another predecessor it does not hold.
  EXPECT_FALSE(verify_audit_log(p, std::string(64, '0')).ok);
}

// Records written and not yet synced when the log is rotated stay in the old file and in the
// chain; tickets from before the rotation are covered by it.
TEST(AuditLog, UnsyncedRecordsSurviveARotation) {
  TempDir d;
  std::filesystem::path p = d / "audit.jsonl";
  std::filesystem::path old = d / "audit.jsonl-20261201";
  {
    AuditLog log(p);
    AuditLog::Ticket t = log.write({{"event", "signing"}, {"n", 0}});
    log.append_soon({{"event", "sign"}, {"n", 1}});
    std::filesystem::rename(p, old);
    ASSERT_TRUE(log.reopen().has_value());
    log.sync(t);
    log.append_soon({{"event", "sign"}, {"n", 2}});
  }
  auto old_lines = lines_of(old);
  ASSERT_EQ(old_lines.size(), 2u);
  AuditVerifyResult a = verify_audit_log(old);
  ASSERT_TRUE(a.ok) << a.reason;
  AuditVerifyResult b = verify_audit_log(p, a.last_hash);
  EXPECT_TRUE(b.ok) << b.reason;
  EXPECT_EQ(b.lines, 2u);  // "continue", then n = 2
}

TEST(AuditLog, ReopenWithoutARenameChangesNothing) {
  TempDir d;
  AuditLog log(d / "audit.jsonl");
  log.append({{"event", "sign"}});
  EXPECT_FALSE(log.reopen().has_value());
  EXPECT_FALSE(log.reopen().has_value());
  log.append({{"event", "sign"}});
  EXPECT_EQ(lines_of(d / "audit.jsonl").size(), 2u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(d.path()), std::filesystem::directory_iterator()), 1);
}

TEST(AuditLog, ReopenRefusesAFileThatAlreadyHoldsRecordsAndKeepsWriting) {
  TempDir d;
  std::filesystem::path p = d / "audit.jsonl";
  AuditLog log(p);
  log.append({{"event", "sign"}});
  std::filesystem::rename(p, d / "audit.jsonl-1");
  { AuditLog other(p); other.append({{"event", "start"}}); }  // someone put a log back
  try {
    log.reopen();
    FAIL() << "reopened onto a file with records";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io);
    EXPECT_NE(std::string(e.what()).find("already holds records"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("audit.jsonl-1"), std::string::npos) << e.what();
  }
  log.append({{"event", "sign"}});
  EXPECT_EQ(lines_of(d / "audit.jsonl-1").size(), 2u);
  EXPECT_TRUE(verify_audit_log(d / "audit.jsonl-1").ok);
  EXPECT_EQ(lines_of(p).size(), 1u);
}

TEST(AuditLog, RotationsWhileEightThreadsAppendLoseNoRecord) {
  TempDir d;
  std::filesystem::path p = d / "audit.jsonl";
  AuditLog log(p);
  std::vector<std::thread> writers;
  constexpr int kEach = 40;
  for (int t = 0; t < 8; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) log.append({{"event", "sign"}, {"t", t}, {"i", i}});
    });
  std::vector<std::filesystem::path> series;
  for (int r = 0; r < 5; ++r) {
    std::filesystem::path name = d / ("audit.jsonl-" + std::to_string(r));
    std::filesystem::rename(p, name);
    series.push_back(name);
    ASSERT_TRUE(log.reopen().has_value());
  }
  for (std::thread& w : writers) w.join();
  series.push_back(p);
  std::optional<std::string> link;
  std::uint64_t signs = 0;
  for (std::size_t i = 0; i < series.size(); ++i) {
    AuditVerifyResult r = verify_audit_log(series[i], i == 0 ? std::nullopt : link);
    ASSERT_TRUE(r.ok) << series[i] << " line " << r.first_bad_line << ": " << r.reason;
    if (i > 0) {
      EXPECT_EQ(r.continues, series[i - 1].filename().string());
    }
    if (!r.last_hash.empty()) link = r.last_hash;
    for (const std::string& l : lines_of(series[i]))
      if (json::parse(l)["event"] == "sign") ++signs;
  }
  EXPECT_EQ(signs, 8u * kEach);
}

TEST(AuditLog, ASecondWriterOfTheSameLogIsRefused) {
  TempDir d;
  AuditLog first(d / "audit.jsonl");
  EXPECT_THROW(AuditLog second(d / "audit.jsonl"), Error);
  first.append({{"event", "sign"}});
  EXPECT_TRUE(verify_audit_log(first.path()).ok);
}

TEST(AuditLog, StringsWithNewlinesQuotesNulAndBadUtf8StayOneLine) {
  TempDir d;
  std::filesystem::path p = d / "audit.jsonl";
  std::string nasty = std::string("a\nb\r\n\"quoted\"\\ \t") + '\0' + "after nul \x01\x1f\x7f \xff\xfe end\n";
  {
    AuditLog log(p);
    log.append({{"event", "refusal"}, {"message", nasty}});
    log.append({{"event", std::string("ev\nent")}, {"message", "second"}});
  }
  auto lines = lines_of(p);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].find('\0'), std::string::npos);
  json j = json::parse(lines[0]);
  std::string back = j["message"];
  std::size_t bad = nasty.find('\xff');
  EXPECT_EQ(back.substr(0, bad), nasty.substr(0, bad));  // everything up to the invalid bytes survives
  EXPECT_NE(back.find("\xEF\xBF\xBD"), std::string::npos);  // 0xff 0xfe became U+FFFD
  auto r = verify_audit_log(p);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.lines, 2u);
}

TEST(AuditLog, RefusesALogWhoseLastLineHasNoFinalLf) {
  TempDir d;
  std::filesystem::path p = make_log(d, 3);
  std::string text = read_text(p);
  text.resize(text.size() - 10);  // a crash mid-write
  write_text(p, text);
  try {
    AuditLog log(p);
    FAIL() << "opened a log with a torn last line";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io);
    std::string msg = e.what();
    EXPECT_NE(msg.find("no final LF"), std::string::npos) << msg;
    EXPECT_NE(msg.find("catsign audit verify"), std::string::npos) << msg;
    EXPECT_NE(msg.find("move the log aside"), std::string::npos) << msg;
  }
  EXPECT_EQ(read_text(p), text);  // untouched
}

TEST(AuditLog, RefusesALogWhoseLastLineIsNotARecord) {
  TempDir d;
  std::filesystem::path p = make_log(d, 2);
  for (const std::string& bad : {std::string("garbage\n"), std::string("{\"event\":\"x\",\"time\":\"t\"}\n"),
                                 std::string("\n"), std::string(70000, 'x') + "\n"}) {
    std::string good = read_text(p);
    write_text(p, good + bad);
    try {
      AuditLog log(p);
      ADD_FAILURE() << "opened a log ending in " << bad.substr(0, 40);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::io);
      EXPECT_NE(std::string(e.what()).find("catsign audit verify"), std::string::npos) << e.what();
    }
    write_text(p, good);
  }
}

TEST(AuditLog, AWholeLogThatIsOneHugeLineIsRefusedWithoutReadingItAll) {
  TempDir d;
  std::filesystem::path p = d / "audit.jsonl";
  write_text(p, std::string(1 << 20, 'x') + "\n");
  EXPECT_THROW(AuditLog log(p), Error);
}

TEST(AuditVerify, EmptyLogVerifiesWithZeroRecords) {
  TempDir d;
  write_text(d / "audit.jsonl", "");
  auto r = verify_audit_log(d / "audit.jsonl");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.lines, 0u);
}

TEST(AuditVerify, MissingLogIsAnIoError) {
  TempDir d;
  try {
    verify_audit_log(d / "nope.jsonl");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io);
  }
}

// Decision: an edit that keeps line K valid JSON cannot be seen in line K itself; it is named
// at line K+1, whose "prev" no longer matches, and the reason points back at line K.
TEST(AuditVerify, OneByteEditedInAMiddleLineIsNamedAtTheNextLine) {
  TempDir d;
  std::filesystem::path p = make_log(d, 5);
  auto lines = lines_of(p);
  std::size_t at = lines[2].find("unstable");
  ASSERT_NE(at, std::string::npos);
  lines[2][at] = 'U';  // still valid JSON
  write_lines(p, lines);
  auto r = verify_audit_log(p);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 4u);
  EXPECT_EQ(r.lines, 3u);
  EXPECT_NE(r.reason.find("line 3"), std::string::npos) << r.reason;
}

TEST(AuditVerify, OneByteEditThatBreaksTheJsonIsNamedAtThatLine) {
  TempDir d;
  std::filesystem::path p = make_log(d, 5);
  auto lines = lines_of(p);
  lines[2][0] = '[';
  write_lines(p, lines);
  auto r = verify_audit_log(p);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 3u);
  EXPECT_NE(r.reason.find("not JSON"), std::string::npos) << r.reason;
}

TEST(AuditVerify, EditedPrevIsNamedAtThatLine) {
  TempDir d;
  std::filesystem::path p = make_log(d, 5);
  auto lines = lines_of(p);
  json j = json::parse(lines[2]);
  std::string prev = j["prev"];
  prev[0] = prev[0] == 'a' ? 'b' : 'a';
  j["prev"] = prev;
  lines[2] = j.dump();
  write_lines(p, lines);
  auto r = verify_audit_log(p);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 3u);
  EXPECT_NE(r.reason.find("prev"), std::string::npos) << r.reason;
}

TEST(AuditVerify, DeletedMiddleLineIsNamedWhereTheGapIs) {
  TempDir d;
  std::filesystem::path p = make_log(d, 5);
  auto lines = lines_of(p);
  lines.erase(lines.begin() + 2);  // old line 3; old line 4 is now line 3
  write_lines(p, lines);
  auto r = verify_audit_log(p);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 3u);
}

TEST(AuditVerify, DeletedFirstLineIsNamedAtLineOne) {
  TempDir d;
  std::filesystem::path p = make_log(d, 3);
  auto lines = lines_of(p);
  lines.erase(lines.begin());
  write_lines(p, lines);
  auto r = verify_audit_log(p);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 1u);
  EXPECT_NE(r.reason.find("64 zeros"), std::string::npos) << r.reason;
}

TEST(AuditVerify, SwappedLinesAreNamedAtTheFirstOfThem) {
  TempDir d;
  std::filesystem::path p = make_log(d, 5);
  auto lines = lines_of(p);
  std::swap(lines[1], lines[2]);
  write_lines(p, lines);
  auto r = verify_audit_log(p);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 2u);
}

TEST(AuditVerify, TruncatedLastLineIsNamed) {
  TempDir d;
  std::filesystem::path p = make_log(d, 4);
  std::string text = read_text(p);
  write_text(p, text.substr(0, text.size() - 1));  // only the LF missing: still names it
  auto r = verify_audit_log(p);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 4u);
  EXPECT_EQ(r.lines, 3u);
  EXPECT_NE(r.reason.find("missing final LF"), std::string::npos) << r.reason;

  write_text(p, text.substr(0, text.size() - 20));
  r = verify_audit_log(p);
  EXPECT_EQ(r.first_bad_line, 4u);
  EXPECT_NE(r.reason.find("missing final LF"), std::string::npos) << r.reason;
}

TEST(AuditVerify, OverlongLineIsBrokenWithoutBufferingIt) {
  TempDir d;
  std::filesystem::path p = make_log(d, 2);
  std::string text = read_text(p);
  write_text(p, text + std::string(3 << 20, 'x') + "\n" + text);
  auto r = verify_audit_log(p);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 3u);
  EXPECT_NE(r.reason.find("too long"), std::string::npos) << r.reason;

  write_text(p, text + std::string(100000, 'x'));  // long and no LF
  r = verify_audit_log(p);
  EXPECT_EQ(r.first_bad_line, 3u);
  EXPECT_NE(r.reason.find("too long"), std::string::npos) << r.reason;
}

TEST(AuditVerify, MissingFieldsWrongTypesEmptyLinesAndNonObjects) {
  TempDir d;
  std::filesystem::path p = make_log(d, 2);
  const std::string good = read_text(p);
  const std::string zeros(64, '0');
  struct Case {
    std::string line;
    std::string reason;
  } cases[] = {
      {"", "not JSON"},
      {"[1,2]", "not a JSON object"},
      {"\"text\"", "not a JSON object"},
      {"{\"time\":\"t\",\"prev\":\"" + zeros + "\"}", "missing field \"event\""},
      {"{\"event\":\"e\",\"prev\":\"" + zeros + "\"}", "missing field \"time\""},
      {"{\"event\":\"e\",\"time\":\"t\"}", "missing field \"prev\""},
      {"{\"event\":1,\"time\":\"t\",\"prev\":\"" + zeros + "\"}", "\"event\" is not a string"},
      {"{\"event\":\"e\",\"time\":\"t\",\"prev\":\"" + zeros + "\"} trailing", "not JSON"},
  };
  for (const Case& c : cases) {
    write_text(p, c.line + "\n" + good);
    auto r = verify_audit_log(p);
    EXPECT_FALSE(r.ok) << c.line;
    EXPECT_EQ(r.first_bad_line, 1u) << c.line;
    EXPECT_NE(r.reason.find(c.reason), std::string::npos) << c.line << " -> " << r.reason;
  }
}

TEST(AuditCli, GoodLogExitsZero) {
  TempDir d;
  std::filesystem::path p = make_log(d, 7);
  auto res = catsign::testing::run({CATSIGN_BINARY, "audit", "verify", p.string()});
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out, "audit log OK: 7 records\n");
}

TEST(AuditCli, EmptyLogExitsZero) {
  TempDir d;
  write_text(d / "audit.jsonl", "");
  auto res = catsign::testing::run({CATSIGN_BINARY, "audit", "verify", (d / "audit.jsonl").string()});
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out, "audit log OK: 0 records\n");
}

TEST(AuditCli, BrokenLogExitsOneNamingTheLine) {
  TempDir d;
  std::filesystem::path p = make_log(d, 5);
  auto lines = lines_of(p);
  std::swap(lines[2], lines[3]);
  write_lines(p, lines);
  auto res = catsign::testing::run({CATSIGN_BINARY, "audit", "verify", p.string()});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_EQ(res.err.rfind("audit log broken at line 3: ", 0), 0u) << res.err;
  EXPECT_EQ(std::count(res.err.begin(), res.err.end(), '\n'), 1) << res.err;
}

TEST(AuditCli, TornLogExitsOne) {
  TempDir d;
  std::filesystem::path p = make_log(d, 2);
  std::string text = read_text(p);
  write_text(p, text.substr(0, text.size() - 5));
  auto res = catsign::testing::run({CATSIGN_BINARY, "audit", "verify", p.string()});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_EQ(res.err, "audit log broken at line 2: missing final LF (the last line is incomplete: a write was "
                     "interrupted)\n");
}

// A log rotated twice: old, middle, current.
struct Series {
  TempDir d;
  std::vector<std::filesystem::path> files;
  Series() {
    std::filesystem::path p = d / "audit.jsonl";
    AuditLog log(p);
    for (int r = 0; r < 3; ++r) {
      for (int i = 0; i < 4; ++i) log.append({{"event", "sign"}, {"r", r}, {"i", i}});
      if (r == 2) break;
      std::filesystem::path name = d / ("audit.jsonl-2026120" + std::to_string(r + 1));
      std::filesystem::rename(p, name);
      files.push_back(name);
      log.reopen();
    }
    files.push_back(p);
  }
  catsign::testing::RunResult verify(const std::vector<std::filesystem::path>& which) const {
    std::vector<std::string> argv = {CATSIGN_BINARY, "audit", "verify"};
    for (const auto& f : which) argv.push_back(f.string());
    return catsign::testing::run(argv);
  }
  // Changes one byte of a field inside line `n` (1-based) so that it still parses.
  void edit(const std::filesystem::path& f, std::size_t n) const {
    auto lines = lines_of(f);
    json j = json::parse(lines[n - 1]);
    j["tampered"] = true;
    lines[n - 1] = j.dump();
    write_lines(f, lines);
  }
};

TEST(AuditCli, RotatedSeriesVerifiesInOrder) {
  Series s;
  auto res = s.verify(s.files);
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out, "audit log OK: 14 records in 3 files\n");  // 12 signatures, 2 continue records
  // Out of order, or with the middle one missing, the seam does not hold.
  res = s.verify({s.files[1], s.files[0], s.files[2]});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find(s.files[0].string() + " broken at line 1: does not continue " + s.files[1].string()),
            std::string::npos)
      << res.err;
  res = s.verify({s.files[0], s.files[2]});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find(s.files[2].string() + " broken at line 1"), std::string::npos) << res.err;
}

TEST(AuditCli, ALaterFileAloneSaysItContinuesAnEarlierOne) {
  Series s;
  auto res = s.verify({s.files[2]});
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out, "audit log OK: 5 records; " + s.files[2].string() +
                         " continues an earlier file, audit.jsonl-20261202, which was not given: give it first to "
                         "check the link\n");
  res = s.verify({s.files[1], s.files[2]});
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_NE(res.out.find("continues an earlier file, audit.jsonl-20261201"), std::string::npos) << res.out;
}

TEST(AuditCli, AChangedLineInEitherFileIsNamed) {
  {
    Series s;  // a middle line of the first file
    s.edit(s.files[0], 2);
    auto res = s.verify(s.files);
    EXPECT_EQ(res.exit_code, 1);
    EXPECT_NE(res.err.find(s.files[0].string() + " broken at line 3:"), std::string::npos) << res.err;
  }
  {
    Series s;  // the LAST line of the first file: only the next file's first record can see it
    s.edit(s.files[0], 4);
    EXPECT_TRUE(verify_audit_log(s.files[0]).ok);
    auto res = s.verify(s.files);
    EXPECT_EQ(res.exit_code, 1);
    EXPECT_NE(res.err.find(s.files[1].string() + " broken at line 1: does not continue " + s.files[0].string()),
              std::string::npos)
        << res.err;
  }
  {
    Series s;  // the seam record itself
    s.edit(s.files[2], 1);
    auto res = s.verify(s.files);
    EXPECT_EQ(res.exit_code, 1);
    EXPECT_NE(res.err.find(s.files[2].string() + " broken at line 2:"), std::string::npos) << res.err;
  }
  {
    Series s;  // a line of the current file
    s.edit(s.files[2], 3);
    auto res = s.verify(s.files);
    EXPECT_EQ(res.exit_code, 1);
    EXPECT_NE(res.err.find(s.files[2].string() + " broken at line 4:"), std::string::npos) << res.err;
  }
  {
    Series s;  // the record right after the seam removed
    auto lines = lines_of(s.files[2]);
    lines.erase(lines.begin() + 1);
    write_lines(s.files[2], lines);
    auto res = s.verify(s.files);
    EXPECT_EQ(res.exit_code, 1);
    EXPECT_NE(res.err.find(s.files[2].string() + " broken at line 2:"), std::string::npos) << res.err;
  }
}

// packaging/catsign.logrotate run by the real logrotate: it renames the open log (never
// copies and truncates it), leaves catsignd to make the new file, and the series verifies.
// catsignd's reopen stands in for the SIGHUP the postrotate script sends through systemd.
class AuditLogrotate : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string conf = read_text(std::filesystem::path(CATSIGN_SOURCE_DIR) / "packaging/catsign.logrotate");
    const std::string installed = "/var/lib/catsign/audit.jsonl";
    ASSERT_NE(conf.find(installed + " {"), std::string::npos);
    conf.replace(conf.find(installed), installed.size(), log_.string());
    shipped_ = conf;
    // No systemd here: the guard that rotates only a running catsignd would refuse. The test
    // runs the same file with the guard's answer fixed to "running".
    running_ = conf;
    const std::string check = "systemctl is-active --quiet catsignd.service";
    std::size_t at = running_.find(check);
    ASSERT_NE(at, std::string::npos);
    running_.replace(at, check.size(), "true");
    const std::string dir_check = "[ -d /run/systemd/system ]";
    for (std::size_t p = running_.find(dir_check); p != std::string::npos; p = running_.find(dir_check))
      running_.replace(p, dir_check.size(), "true");
  }
  catsign::testing::RunResult logrotate(const std::string& conf) {
    write_text(d_ / "logrotate.conf", conf);
    ::chmod((d_ / "logrotate.conf").c_str(), 0644);
    return catsign::testing::run(
        {"logrotate", "--force", "--state", (d_ / "state").string(), (d_ / "logrotate.conf").string()});
  }
  std::vector<std::filesystem::path> rotated() const {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(d_.path()))
      if (e.path().filename().string().rfind("audit.jsonl-", 0) == 0) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }

  TempDir d_;
  std::filesystem::path log_ = d_ / "audit.jsonl";
  std::string shipped_, running_;
};

TEST_F(AuditLogrotate, ConfigRenamesAndSignalsNeverCopytruncates) {
  std::set<std::string> directives;
  std::istringstream in(shipped_);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line.substr(0, line.find('#')));
    std::string first;
    if (words >> first) directives.insert(first);
  }
  EXPECT_EQ(directives.count("copytruncate"), 0u);
  EXPECT_EQ(directives.count("copy"), 0u);
  EXPECT_EQ(directives.count("compress"), 0u);  // audit verify reads plain files
  EXPECT_EQ(directives.count("postrotate"), 1u);
  EXPECT_NE(shipped_.find("--signal=HUP catsignd.service"), std::string::npos);
}

TEST_F(AuditLogrotate, RotatesARunningDaemonsLogAndTheSeriesVerifies) {
  AuditLog log(log_);
  for (int i = 0; i < 3; ++i) log.append({{"event", "sign"}, {"n", i}});
  struct stat before {};
  ASSERT_EQ(::stat(log_.c_str(), &before), 0);

  catsign::testing::RunResult r = logrotate(running_);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::filesystem::path> old = rotated();
  ASSERT_EQ(old.size(), 1u);
  struct stat after {};
  ASSERT_EQ(::stat(old[0].c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // renamed, not copied
  EXPECT_FALSE(std::filesystem::exists(log_));  // nocreate: catsignd makes the new one
  log.append({{"event", "sign"}, {"n", 3}});  // before the signal: still lands in the old file

  std::optional<std::filesystem::path> previous = log.reopen();
  ASSERT_TRUE(previous.has_value());
  EXPECT_EQ(*previous, old[0]);
  log.append({{"event", "sign"}, {"n", 4}});
  EXPECT_EQ(lines_of(old[0]).size(), 4u);

  catsign::testing::RunResult v =
      catsign::testing::run({CATSIGN_BINARY, "audit", "verify", old[0].string(), log_.string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(v.out, "audit log OK: 6 records in 2 files\n");
}

TEST_F(AuditLogrotate, LeavesTheLogAloneWhileCatsigndIsNotRunning) {
  {
    AuditLog log(log_);
    log.append({{"event", "sign"}});
  }
  catsign::testing::RunResult r = logrotate(shipped_);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("catsignd is not running"), std::string::npos) << r.err;
  EXPECT_TRUE(rotated().empty());
  EXPECT_EQ(lines_of(log_).size(), 1u);
}

TEST(AuditCli, MissingLogExitsOneWithOneLine) {
  TempDir d;
  auto res = catsign::testing::run({CATSIGN_BINARY, "audit", "verify", (d / "nope").string()});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_EQ(std::count(res.err.begin(), res.err.end(), '\n'), 1) << res.err;
}

}  // namespace
}  // namespace catsign::daemon
