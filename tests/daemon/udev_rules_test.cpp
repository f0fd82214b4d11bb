// SPDX-License-Identifier: Apache-2.0
// udev/70-catsign.rules. Debian 12's udev (systemd 252) has no `udevadm verify` (it came in
// 253), so the file is checked here: a parser for the rules syntax of udev(7), then a small
// evaluator over the keys the file uses, fed the properties udev has for a YubiKey, a CCID
// reader and unrelated devices on "add" and "remove". When a `udevadm verify` exists it is
// run as well.
#include <fnmatch.h>
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../support/process.hpp"

namespace catsign {
namespace {

using catsign::testing::read_text;
using catsign::testing::run;
using catsign::testing::RunResult;

const std::filesystem::path kRules = std::filesystem::path(CATSIGN_SOURCE_DIR) / "udev/70-catsign.rules";
const std::string kLock = "/usr/bin/catsign lock --config /etc/catsign/catsign.toml --reason token-removed";

struct Pair {
  std::string key;   // ENV, ACTION, RUN, ...
  std::string attr;  // the {...} part, or empty
  std::string op;    // == != = += -= :=
  std::string value;
};
using Rule = std::vector<Pair>;

struct Parsed {
  std::vector<Rule> rules;
  std::vector<std::string> errors;  // "line N: ..."
};

// udev(7): a rule is one or more KEY[{attr}] OP "value" separated by commas; '#' starts a
// comment line; a trailing backslash continues a line.
Parsed parse_rules(const std::string& text) {
  static const std::set<std::string> match_only = {
      "ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS",
      "ATTRS", "TAGS", "TEST", "PROGRAM", "RESULT", "CONST"};
  static const std::set<std::string> assign_only = {"OWNER", "GROUP", "MODE", "RUN", "LABEL",
                                                    "GOTO", "IMPORT", "OPTIONS", "SECLABEL"};
  static const std::set<std::string> either = {"ENV", "ATTR", "SYSCTL", "NAME", "SYMLINK", "TAG"};
  static const std::set<std::string> need_attr = {"ATTR", "ATTRS", "ENV", "SYSCTL", "CONST",
                                                  "IMPORT", "SECLABEL"};
  Parsed out;
  std::vector<std::string> lines;
  {
    std::string cur;
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t lf = text.find('\n', start);
      std::string line = text.substr(start, lf == std::string::npos ? std::string::npos : lf - start);
      if (!line.empty() && line.back() == '\\') {
        cur += line.substr(0, line.size() - 1);
        lines.push_back("");  // keep line numbers
      } else {
        lines.push_back(cur + line);
        cur.clear();
      }
      if (lf == std::string::npos) break;
      start = lf + 1;
    }
  }
  for (std::size_t n = 0; n < lines.size(); ++n) {
    const std::string& line = lines[n];
    auto fail = [&](const std::string& why) {
      out.errors.push_back("line " + std::to_string(n + 1) + ": " + why + ": " + line);
    };
    std::size_t i = line.find_first_not_of(" \t");
    if (i == std::string::npos || line[i] == '#') continue;
    Rule rule;
    bool ok = true;
    while (ok && i < line.size()) {
      Pair p;
      std::size_t k = i;
      while (k < line.size() && (std::isupper(static_cast<unsigned char>(line[k])) || line[k] == '_')) ++k;
      p.key = line.substr(i, k - i);
      if (p.key.empty()) {
        fail("expected a KEY");
        ok = false;
        break;
      }
      if (k < line.size() && line[k] == '{') {
        std::size_t close = line.find('}', k);
        if (close == std::string::npos) {
          fail("unclosed {");
          ok = false;
          break;
        }
        p.attr = line.substr(k + 1, close - k - 1);
        k = close + 1;
      }
      for (const char* op : {"==", "!=", "+=", "-=", ":=", "="})
        if (line.compare(k, std::char_traits<char>::length(op), op) == 0) {
          p.op = op;
          break;
        }
      if (p.op.empty()) {
        fail("expected an operator after " + p.key);
        ok = false;
        break;
      }
      k += p.op.size();
      if (k >= line.size() || line[k] != '"') {
        fail("value of " + p.key + " must be quoted");
        ok = false;
        break;
      }
      std::size_t endq = line.find('"', k + 1);
      if (endq == std::string::npos) {
        fail("unterminated value of " + p.key);
        ok = false;
        break;
      }
      p.value = line.substr(k + 1, endq - k - 1);
      bool is_match = p.op == "==" || p.op == "!=";
      if (!match_only.count(p.key) && !assign_only.count(p.key) && !either.count(p.key))
        fail("unknown key " + p.key);
      else if (match_only.count(p.key) && !is_match)
        fail(p.key + " can only be matched (== or !=)");
      else if (assign_only.count(p.key) && is_match)
        fail(p.key + " can only be assigned");
      else if (need_attr.count(p.key) && p.attr.empty())
        fail(p.key + " needs {...}");
      else if ((p.key == "LABEL" || p.key == "GOTO") && p.op != "=")
        fail(p.key + " takes =");
      rule.push_back(p);
      i = line.find_first_not_of(" \t", endq + 1);
      if (i == std::string::npos) break;
      if (line[i] != ',') {
        fail("expected ',' between pairs");
        ok = false;
        break;
      }
      i = line.find_first_not_of(" \t", i + 1);
      if (i == std::string::npos) fail("trailing ','");
    }
    if (ok) out.rules.push_back(rule);
  }
  // GOTO may only jump forward, to a LABEL that exists.
  for (std::size_t r = 0; r < out.rules.size(); ++r)
    for (const Pair& p : out.rules[r])
      if (p.key == "GOTO") {
        bool found = false;
        for (std::size_t s = r + 1; s < out.rules.size(); ++s)
          for (const Pair& q : out.rules[s])
            if (q.key == "LABEL" && q.value == p.value) found = true;
        if (!found) out.errors.push_back("GOTO=\"" + p.value + "\" has no LABEL after it");
      }
  return out;
}

struct Outcome {
  std::vector<std::string> run;
  std::string group;
  std::string mode;
};

// A udev-style value match: shell glob, with '|' separating alternatives.
bool value_matches(const std::string& pattern, const std::string& value) {
  std::size_t start = 0;
  while (true) {
    std::size_t bar = pattern.find('|', start);
    std::string alt = pattern.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    if (::fnmatch(alt.c_str(), value.c_str(), 0) == 0) return true;
    if (bar == std::string::npos) return false;
    start = bar + 1;
  }
}

// Runs the rules over one event; only the keys 70-catsign.rules uses are understood, anything
// else fails the test.
Outcome evaluate(const std::vector<Rule>& rules, const std::string& action, const std::string& subsystem,
                 std::map<std::string, std::string> env) {
  Outcome out;
  std::optional<std::string> jump;
  for (const Rule& rule : rules) {
    if (jump) {
      bool here = false;
      for (const Pair& p : rule)
        if (p.key == "LABEL" && p.value == *jump) here = true;
      if (!here) continue;
      jump.reset();
    }
    bool matched = true;
    for (const Pair& p : rule) {
      if (p.op != "==" && p.op != "!=") continue;
      std::string have;
      if (p.key == "ACTION")
        have = action;
      else if (p.key == "SUBSYSTEM")
        have = subsystem;
      else if (p.key == "ENV")
        have = env.count(p.attr) ? env[p.attr] : "";
      else
        ADD_FAILURE() << "the evaluator does not know match key " << p.key;
      bool m = value_matches(p.value, have);
      if ((p.op == "==") != m) matched = false;
    }
    if (!matched) continue;
    for (const Pair& p : rule) {
      if (p.op == "==" || p.op == "!=" || p.key == "LABEL") continue;
      if (p.key == "ENV")
        env[p.attr] = p.value;
      else if (p.key == "RUN")
        out.run.push_back(p.value);
      else if (p.key == "GROUP")
        out.group = p.value;
      else if (p.key == "MODE")
        out.mode = p.value;
      else if (p.key == "GOTO")
        jump = p.value;
      else
        ADD_FAILURE() << "the evaluator does not know assignment key " << p.key;
    }
  }
  EXPECT_FALSE(jump) << "GOTO to a missing label";
  return out;
}

class UdevRules : public ::testing::Test {
 protected:
  void SetUp() override {
    parsed_ = parse_rules(read_text(kRules));
    for (const std::string& e : parsed_.errors) ADD_FAILURE() << kRules << " " << e;
  }
  Outcome event(const std::string& action, std::map<std::string, std::string> env,
                const std::string& subsystem = "usb") {
    return evaluate(parsed_.rules, action, subsystem, std::move(env));
  }
  Parsed parsed_;
};

// Properties udev's usb_id builtin gives the whole USB device (DEVTYPE=usb_device).
const std::map<std::string, std::string> kYubiKey = {
    {"DEVTYPE", "usb_device"}, {"ID_VENDOR_ID", "1050"}, {"ID_MODEL_ID", "0407"},
    {"ID_USB_INTERFACES", ":030101:030000:0b0000:"}};
const std::map<std::string, std::string> kYubiKeyOtpOnly = {
    {"DEVTYPE", "usb_device"}, {"ID_VENDOR_ID", "1050"}, {"ID_MODEL_ID", "0401"},
    {"ID_USB_INTERFACES", ":030101:"}};
const std::map<std::string, std::string> kCcidReader = {
    {"DEVTYPE", "usb_device"}, {"ID_VENDOR_ID", "04e6"}, {"ID_MODEL_ID", "5116"},
    {"ID_USB_INTERFACES", ":0b0000:"}};
const std::map<std::string, std::string> kMouse = {
    {"DEVTYPE", "usb_device"}, {"ID_VENDOR_ID", "046d"}, {"ID_MODEL_ID", "c077"},
    {"ID_USB_INTERFACES", ":030102:"}};

TEST_F(UdevRules, ParsesAsUdevRules) {
  EXPECT_FALSE(parsed_.rules.empty());
  // ATTR{}/ATTRS{} read sysfs, which is gone by the time "remove" is processed.
  for (const Rule& r : parsed_.rules)
    for (const Pair& p : r) EXPECT_TRUE(p.key != "ATTR" && p.key != "ATTRS") << p.key << "{" << p.attr << "}";
  // Every RUN program is an absolute path (udev does not search PATH for it).
  for (const Rule& r : parsed_.rules)
    for (const Pair& p : r) {
      if (p.key == "RUN") {
        EXPECT_EQ(p.value.rfind("/", 0), 0u) << p.value;
      }
    }
}

TEST_F(UdevRules, TheRemoveRuleRunsCatsignLockWithTheReason) {
  bool found = false;
  for (const Rule& r : parsed_.rules) {
    bool remove = false;
    const Pair* run_pair = nullptr;
    for (const Pair& p : r) {
      if (p.key == "ACTION" && p.op == "==" && p.value == "remove") remove = true;
      if (p.key == "RUN") run_pair = &p;
    }
    if (remove && run_pair) {
      found = true;
      EXPECT_EQ(run_pair->op, "+=");
      EXPECT_EQ(run_pair->value, kLock);
    }
  }
  EXPECT_TRUE(found) << "no ACTION==\"remove\" rule with RUN+=";
}

TEST_F(UdevRules, PullingAYubiKeyLocksOnce) {
  Outcome o = event("remove", kYubiKey);
  EXPECT_EQ(o.run, std::vector<std::string>{kLock});
  o = event("remove", kYubiKeyOtpOnly);
  EXPECT_EQ(o.run, std::vector<std::string>{kLock});
}

TEST_F(UdevRules, PullingACcidReaderLocks) {
  EXPECT_EQ(event("remove", kCcidReader).run, std::vector<std::string>{kLock});
}

TEST_F(UdevRules, OtherDevicesAndInterfacesDoNothing) {
  for (const char* action : {"add", "remove"}) {
    SCOPED_TRACE(action);
    Outcome o = event(action, kMouse);
    EXPECT_TRUE(o.run.empty());
    EXPECT_EQ(o.group, "");
    // One event per token: its interfaces (DEVTYPE=usb_interface) are not matched.
    auto iface = kYubiKey;
    iface["DEVTYPE"] = "usb_interface";
    o = event(action, iface);
    EXPECT_TRUE(o.run.empty());
    EXPECT_EQ(o.group, "");
    // Not the USB subsystem (e.g. the hidraw node of the same key).
    o = event(action, kYubiKey, "hidraw");
    EXPECT_TRUE(o.run.empty());
    EXPECT_EQ(o.group, "");
  }
}

TEST_F(UdevRules, PluggingInGivesGroupCatsignTheDeviceAndLocksNothing) {
  for (const auto& dev : {kYubiKey, kCcidReader}) {
    Outcome o = event("add", dev);
    EXPECT_TRUE(o.run.empty());
    EXPECT_EQ(o.group, "catsign");
    EXPECT_EQ(o.mode, "0660");
  }
  // "bind", "change": neither locks nor changes ownership.
  for (const char* action : {"bind", "change"}) {
    Outcome o = event(action, kYubiKey);
    EXPECT_TRUE(o.run.empty()) << action;
  }
}

TEST(UdevRulesParser, CatchesBrokenRules) {
  EXPECT_FALSE(parse_rules("ACTION=\"remove\", RUN+=\"/bin/true\"\n").errors.empty());  // = on a match key
  EXPECT_FALSE(parse_rules("ACTION==remove\n").errors.empty());                      // unquoted
  EXPECT_FALSE(parse_rules("ACTION==\"remove\" RUN+=\"/bin/true\"\n").errors.empty());  // no comma
  EXPECT_FALSE(parse_rules("ENV==\"x\"\n").errors.empty());                          // ENV without {}
  EXPECT_FALSE(parse_rules("GOTO=\"nowhere\"\n").errors.empty());                    // no label
  EXPECT_FALSE(parse_rules("FOO==\"x\"\n").errors.empty());                          // unknown key
  EXPECT_TRUE(parse_rules("# c\n\nACTION==\"add\", \\\n  GROUP=\"x\"\n").errors.empty());
}


}  // namespace
}  // namespace catsign
