// SPDX-License-Identifier: Apache-2.0
#include "catsign/repository/repomd.hpp"

#include <expat.h>

#include <memory>
#include <set>

#include "catsign/error.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::repository {

namespace {

// Element names arrive as "<namespace URI>|<local name>" (XML_ParserCreateNS with '|').
constexpr std::string_view kRepo = "http://linux.duke.edu/metadata/repo|";
constexpr std::string_view kXmlBase = "http://www.w3.org/XML/1998/namespace|base";
constexpr std::size_t kMaxDepth = 16;
constexpr std::size_t kMaxText = 256;
constexpr std::size_t kMaxSizeDigits = 19;
constexpr int kChunk = 1 << 20;

struct Hash {
  const char* xml;
  const char* botan;
  std::size_t bytes;
};
constexpr Hash kHashes[] = {
    {"sha224", "SHA-224", 28}, {"sha256", "SHA-256", 32}, {"sha384", "SHA-384", 48}, {"sha512", "SHA-512", 64}};

enum class Field { none, checksum, location, size };

struct Data {
  std::string type;  // the data's own type="primary", quoted for messages
  std::size_t line = 0;
  std::optional<std::string> checksum, checksum_type, href, size;
};

struct State {
  XML_Parser parser = nullptr;
  std::string error;  // the first problem; parsing stops at it
  std::size_t depth = 0;
  bool saw_root = false;
  std::optional<Data> data;  // inside a <data> at depth 1
  Field field = Field::none;  // capturing a field's text at depth 2
  std::string text;
  std::vector<ListedFile> files;
  std::set<std::string> paths;

  std::size_t line() const { return static_cast<std::size_t>(XML_GetCurrentLineNumber(parser)); }

  void fail(const std::string& why) {
    if (error.empty()) error = "repomd.xml line " + std::to_string(line()) + ": " + why;
    XML_StopParser(parser, XML_FALSE);
  }

  std::string what() const { return "<data type=" + data->type + ">"; }

  void finish_data() {
    Data& d = *data;
    if (!d.checksum) return fail(what() + " has no <checksum>");
    if (!d.href) return fail(what() + " has no <location href=...>");
    if (!d.size) return fail(what() + " has no <size>");
    ListedFile f;
    f.line = d.line;
    const Hash* hash = nullptr;
    for (const Hash& h : kHashes)
      if (*d.checksum_type == h.xml) hash = &h;
    if (!hash) {
      const std::string& t = *d.checksum_type;
      if (t == "sha" || t == "sha1" || t == "md5")
        return fail(what() + " has a " + t + " checksum, too weak to stand for a file: rebuild the repository " +
                    "with createrepo_c --checksum sha256");
      return fail(what() + " has checksum type " + quote_for_message(t, 20) + "; known: sha224, sha256, sha384, sha512");
    }
    f.hash = hash->botan;
    const std::string& hex = *d.checksum;
    bool hex_ok = hex.size() == 2 * hash->bytes;
    for (char c : hex) hex_ok = hex_ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
    if (!hex_ok)
      return fail(what() + " <checksum type=\"" + hash->xml + "\"> is not " + std::to_string(2 * hash->bytes) +
                  " hex digits");
    f.digest = from_hex(hex);
    const std::string& size = *d.size;
    if (size.empty() || size.size() > kMaxSizeDigits) return fail(what() + " <size> is not a number of bytes");
    for (char c : size) {
      if (c < '0' || c > '9') return fail(what() + " <size> is not a number of bytes");
      f.size = f.size * 10 + static_cast<std::uint64_t>(c - '0');
    }
    f.path = *d.href;
    if (!paths.insert(f.path).second) return fail(f.path + " is listed twice");
    files.push_back(std::move(f));
  }
};

std::string trimmed(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// The local name when `name` is in the repo namespace, else empty.
std::string_view repo_local(std::string_view name) {
  if (name.substr(0, kRepo.size()) != kRepo) return {};
  return name.substr(kRepo.size());
}

const char* attribute(const XML_Char** atts, std::string_view name) {
  for (std::size_t i = 0; atts[i]; i += 2)
    if (name == atts[i]) return atts[i + 1];
  return nullptr;
}

void XMLCALL on_start(void* user, const XML_Char* name_c, const XML_Char** atts) {
  State& s = *static_cast<State*>(user);
  std::string_view name(name_c);
  ++s.depth;
  if (s.depth > kMaxDepth) return s.fail("elements nested deeper than " + std::to_string(kMaxDepth));
  if (s.depth == 1) {
    if (repo_local(name) != "repomd")
      return s.fail("the root element is " + quote_for_message(name, 80) + ", not <repomd> in namespace " +
                    std::string(kRepo.substr(0, kRepo.size() - 1)));
    s.saw_root = true;
    return;
  }
  if (s.depth == 2 && repo_local(name) == "data") {
    s.data.emplace();
    s.data->line = s.line();
    const char* type = attribute(atts, "type");
    s.data->type = type ? quote_for_message(type, 40) : "(no type)";
    return;
  }
  if (s.depth != 3 || !s.data) return;
  std::string_view local = repo_local(name);
  auto once = [&](const std::optional<std::string>& seen, const char* tag) {
    if (seen) s.fail(s.what() + " has a second <" + tag + ">");
    return !seen;
  };
  if (local == "checksum") {
    if (!once(s.data->checksum, "checksum")) return;
    const char* type = attribute(atts, "type");
    if (!type) return s.fail(s.what() + " <checksum> has no type=");
    s.data->checksum_type = type;
    s.field = Field::checksum;
    s.text.clear();
  } else if (local == "location") {
    if (!once(s.data->href, "location")) return;
    if (attribute(atts, kXmlBase))
      return s.fail(s.what() + " <location> has xml:base, which points outside this repository");
    const char* href = attribute(atts, "href");
    if (!href) return s.fail(s.what() + " <location> has no href=");
    if (!listed_path_ok(href))
      return s.fail(s.what() + " <location href=" + quote_for_message(href, 80) +
                    "> is not a plain relative path (no leading '/', no '.', '..' or empty component)");
    s.data->href = href;
  } else if (local == "size") {
    if (!once(s.data->size, "size")) return;
    s.field = Field::size;
    s.text.clear();
  }
}

void XMLCALL on_end(void* user, const XML_Char*) {
  State& s = *static_cast<State*>(user);
  if (s.depth == 3 && s.data && s.field != Field::none) {
    (s.field == Field::checksum ? s.data->checksum : s.data->size) = trimmed(s.text);
    s.field = Field::none;
  } else if (s.depth == 2 && s.data) {
    s.finish_data();
    s.data.reset();
  }
  --s.depth;
}

void XMLCALL on_text(void* user, const XML_Char* text, int len) {
  State& s = *static_cast<State*>(user);
  if (s.field == Field::none || len <= 0) return;
  if (s.text.size() + static_cast<std::size_t>(len) > kMaxText)
    return s.fail(s.what() + " has a checksum or size longer than " + std::to_string(kMaxText) + " characters");
  s.text.append(text, static_cast<std::size_t>(len));
}

void XMLCALL on_doctype(void* user, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  static_cast<State*>(user)->fail("has a DOCTYPE; repomd.xml has none, and catsign reads no DTD or entity");
}

void XMLCALL on_entity(void* user, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
                       const XML_Char*, const XML_Char*) {
  static_cast<State*>(user)->fail("declares an entity; catsign reads no DTD or entity");
}

struct ParserFree {
  void operator()(XML_Parser p) const { XML_ParserFree(p); }
};

}  // namespace

std::vector<ListedFile> parse_repomd(std::string_view text) {
  std::unique_ptr<std::remove_pointer_t<XML_Parser>, ParserFree> parser(XML_ParserCreateNS(nullptr, '|'));
  if (!parser) throw Error(Errc::internal, "expat could not make a parser (out of memory?)");
  State s;
  s.parser = parser.get();
  XML_SetUserData(parser.get(), &s);
  XML_SetElementHandler(parser.get(), on_start, on_end);
  XML_SetCharacterDataHandler(parser.get(), on_text);
  XML_SetStartDoctypeDeclHandler(parser.get(), on_doctype);
  XML_SetEntityDeclHandler(parser.get(), on_entity);
  // Never read an external DTD or entity (expat's default, said again).
  XML_SetParamEntityParsing(parser.get(), XML_PARAM_ENTITY_PARSING_NEVER);
  std::size_t offset = 0;
  do {
    const std::size_t n = std::min<std::size_t>(text.size() - offset, kChunk);
    const bool last = offset + n == text.size();
    if (XML_Parse(parser.get(), text.data() + offset, static_cast<int>(n), last ? XML_TRUE : XML_FALSE) !=
        XML_STATUS_OK) {
      if (!s.error.empty()) throw Error(Errc::malformed, s.error);
      throw Error(Errc::malformed, "repomd.xml line " + std::to_string(XML_GetCurrentLineNumber(parser.get())) +
                                       ": not well-formed XML: " + XML_ErrorString(XML_GetErrorCode(parser.get())));
    }
    offset += n;
  } while (offset < text.size());
  if (!s.error.empty()) throw Error(Errc::malformed, s.error);
  if (!s.saw_root) throw Error(Errc::malformed, "repomd.xml is empty");
  if (s.files.empty()) throw Error(Errc::malformed, "repomd.xml lists no <data>, so there is nothing to check");
  return std::move(s.files);
}

}  // namespace catsign::repository
