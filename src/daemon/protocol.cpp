// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/protocol.hpp"

#include "catsign/daemon/outcome.hpp"

#include <vector>

namespace catsign::daemon {

namespace {

[[noreturn]] void bad(const std::string& what) { throw Error(Errc::bad_request, what); }

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= line.size()) {
    std::size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    if (end == start) bad("empty field: separate fields with single spaces");
    parts.push_back(line.substr(start, end - start));
    start = end + 1;
    if (parts.size() > 8) bad("too many fields");
  }
  return parts;
}

Bytes parse_sha256(std::string_view value) {
  if (value.size() != 64) bad("sha256= needs 64 lowercase hex digits");
  for (char c : value)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) bad("sha256= needs 64 lowercase hex digits");
  return from_hex(value);
}

}  // namespace

Request parse_request(std::string_view line) {
  if (line.empty()) bad("empty request: send SIGN, SIGNPKG, STATUS or PING");
  if (line.size() > kMaxRequestLine) bad("request longer than 1024 bytes");
  for (char c : line)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
      bad("request has a byte that is not printable ASCII");
  std::vector<std::string_view> parts = split_spaces(line);
  std::string_view verb = parts[0];
  Request r;
  if (verb == "PING" || verb == "STATUS" || verb == "UNLOCK") {
    if (parts.size() != 1) bad(std::string(verb) + " takes no arguments");
    r.kind = verb == "PING" ? Request::Kind::ping : verb == "STATUS" ? Request::Kind::status : Request::Kind::unlock;
    return r;
  }
  if (verb == "LOCK") {
    r.kind = Request::Kind::lock;
    // The reason is free text for the log; everything after "LOCK ".
    if (line.size() > 5) r.lock_reason = std::string(line.substr(5));
    if (r.lock_reason.size() > 200) bad("lock reason longer than 200 characters");
    return r;
  }
  if (verb != "SIGN" && verb != "SIGNPKG")
    bad("unknown request '" + std::string(verb.substr(0, 20)) + "': send SIGN, SIGNPKG, STATUS or PING");
  r.kind = verb == "SIGN" ? Request::Kind::sign : Request::Kind::signpkg;
  if (parts.size() < 3) bad(std::string(verb) + " needs a " + (verb == "SIGN" ? "tuple" : "path") + " and sha256=<hex>");
  r.target = std::string(parts[1]);
  bool seen_sha = false, seen_mode = false, seen_armor = false;
  bool clearsign = false, armor = true;
  for (std::size_t i = 2; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    std::size_t eq = p.find('=');
    if (eq == std::string_view::npos) bad("expected key=value, got '" + std::string(p.substr(0, 40)) + "'");
    std::string_view key = p.substr(0, eq), value = p.substr(eq + 1);
    auto once = [&](bool& seen) {
      if (seen) bad(std::string(key) + "= given twice");
      seen = true;
    };
    if (key == "sha256") {
      once(seen_sha);
      r.sha256 = parse_sha256(value);
    } else if (key == "mode") {
      once(seen_mode);
      if (value == "detached") clearsign = false;
      else if (value == "clearsign") clearsign = true;
      else bad("mode= must be detached or clearsign");
    } else if (key == "armor") {
      once(seen_armor);
      if (value == "yes") armor = true;
      else if (value == "no") armor = false;
      else bad("armor= must be yes or no");
    } else {
      bad("unknown option '" + std::string(key.substr(0, 20)) + "='");
    }
  }
  if (!seen_sha) bad("sha256=<64 hex digits> is required: the daemon signs only the file you expect");
  if (clearsign && !armor) bad("a cleartext signature is always armored: drop armor=no");
  if (r.kind == Request::Kind::signpkg && clearsign) bad("packages get detached signatures only");
  r.form = clearsign ? signing::Form::cleartext : armor ? signing::Form::detached_armored : signing::Form::detached_binary;
  return r;
}

std::string format_request(const Request& r) {
  switch (r.kind) {
    case Request::Kind::ping: return "PING\n";
    case Request::Kind::status: return "STATUS\n";
    case Request::Kind::unlock: return "UNLOCK\n";
    case Request::Kind::lock: return r.lock_reason.empty() ? "LOCK\n" : "LOCK " + r.lock_reason + "\n";
    case Request::Kind::sign:
    case Request::Kind::signpkg: break;
  }
  std::string s = (r.kind == Request::Kind::sign ? "SIGN " : "SIGNPKG ") + r.target + " sha256=" + to_hex(r.sha256);
  if (r.form == signing::Form::cleartext) s += " mode=clearsign";
  if (r.form == signing::Form::detached_binary) s += " armor=no";
  return s + "\n";
}

std::string ok_reply(std::string_view payload) {
  return "OK " + std::to_string(payload.size()) + "\n" + std::string(payload);
}

std::string err_reply(Errc code, std::string_view message) {
  std::string m(message.substr(0, 512));
  for (char& c : m)
    if (c == '\n' || c == '\r') c = ' ';
  return std::string("ERR ") + reply_code_name(code) + " " + m + "\n";
}

std::string render_reply(const Outcome& outcome) {
  return outcome.ok() ? ok_reply(outcome.payload) : err_reply(*outcome.refusal, outcome.message);
}

}  // namespace catsign::daemon
