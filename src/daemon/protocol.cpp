#include "catsign/daemon/protocol.hpp"

#include <array>
#include <vector>

namespace catsign::daemon {

namespace {

constexpr std::array<std::pair<ReplyCode, const char*>, 9> kNames = {{
    {ReplyCode::locked, "LOCKED"},
    {ReplyCode::hash_mismatch, "HASH_MISMATCH"},
    {ReplyCode::unknown_catalog, "UNKNOWN_CATALOG"},
    {ReplyCode::bad_request, "BAD_REQUEST"},
    {ReplyCode::denied, "DENIED"},
    {ReplyCode::packages_unsigned, "PACKAGES_UNSIGNED"},
    {ReplyCode::token_error, "TOKEN_ERROR"},
    {ReplyCode::busy, "BUSY"},
    {ReplyCode::internal, "INTERNAL"},
}};

[[noreturn]] void bad(const std::string& what) { throw RequestError(ReplyCode::bad_request, what); }

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

const char* reply_code_name(ReplyCode code) noexcept {
  for (const auto& [c, n] : kNames)
    if (c == code) return n;
  return "TOKEN_ERROR";
}

std::optional<ReplyCode> reply_code_from_name(std::string_view name) {
  for (const auto& [c, n] : kNames)
    if (name == n) return c;
  return std::nullopt;
}

int exit_code_for(ReplyCode code) noexcept {
  switch (code) {
    case ReplyCode::locked: return 3;
    case ReplyCode::hash_mismatch: return 4;
    case ReplyCode::unknown_catalog:
    case ReplyCode::denied:
    case ReplyCode::packages_unsigned: return 5;
    case ReplyCode::bad_request: return 2;
    case ReplyCode::token_error:
    case ReplyCode::busy:
    case ReplyCode::internal: return 1;
  }
  return 1;
}

RequestError::RequestError(ReplyCode code, const std::string& message)
    : Error(code == ReplyCode::locked          ? Errc::locked
            : code == ReplyCode::hash_mismatch ? Errc::hash_mismatch
            : code == ReplyCode::bad_request   ? Errc::malformed
            : code == ReplyCode::token_error || code == ReplyCode::busy ? Errc::token
            : code == ReplyCode::internal                               ? Errc::internal
                                                                        : Errc::refused,
            message),
      reply_code_(code) {}

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
      if (value == "detached") r.form = SignatureForm::detached;
      else if (value == "clearsign") r.form = SignatureForm::clearsign;
      else bad("mode= must be detached or clearsign");
    } else if (key == "armor") {
      once(seen_armor);
      if (value == "yes") r.armor = true;
      else if (value == "no") r.armor = false;
      else bad("armor= must be yes or no");
    } else {
      bad("unknown option '" + std::string(key.substr(0, 20)) + "='");
    }
  }
  if (!seen_sha) bad("sha256=<64 hex digits> is required: the daemon signs only the file you expect");
  if (r.form == SignatureForm::clearsign && !r.armor) bad("a cleartext signature is always armored: drop armor=no");
  if (r.kind == Request::Kind::signpkg && r.form == SignatureForm::clearsign)
    bad("packages get detached signatures only");
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
  if (r.form == SignatureForm::clearsign) s += " mode=clearsign";
  if (!r.armor) s += " armor=no";
  return s + "\n";
}

std::string ok_reply(std::string_view payload) {
  return "OK " + std::to_string(payload.size()) + "\n" + std::string(payload);
}

std::string err_reply(ReplyCode code, std::string_view message) {
  std::string m(message.substr(0, 512));
  for (char& c : m)
    if (c == '\n' || c == '\r') c = ' ';
  return std::string("ERR ") + reply_code_name(code) + " " + m + "\n";
}

}  // namespace catsign::daemon
