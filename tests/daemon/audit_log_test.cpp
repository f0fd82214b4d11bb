#include "catsign/daemon/audit_log.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

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

TEST(AuditCli, MissingLogExitsOneWithOneLine) {
  TempDir d;
  auto res = catsign::testing::run({CATSIGN_BINARY, "audit", "verify", (d / "nope").string()});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_EQ(std::count(res.err.begin(), res.err.end(), '\n'), 1) << res.err;
}

}  // namespace
}  // namespace catsign::daemon
