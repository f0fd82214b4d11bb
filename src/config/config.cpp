// SPDX-License-Identifier: Apache-2.0
#include "catsign/config.hpp"

#include <set>
#include <sstream>
#include <tuple>
#include <toml++/toml.h>

#include "catsign/error.hpp"
#include "catsign/repository/path_template.hpp"
#include "catsign/token/pkcs11_uri.hpp"
#include "catsign/util/address.hpp"
#include "catsign/util/duration.hpp"
#include "catsign/util/file.hpp"

namespace catsign {

namespace {

class Reader {
 public:
  explicit Reader(const std::filesystem::path& path) : path_(path), base_(path.parent_path()) {}

  [[noreturn]] void fail(const toml::node* node, const std::string& what) const {
    // Appended piece by piece: GCC 12 at -O3 misreads `"literal" + std::string&&` (an insert at
    // position 0) as an overlapping memcpy and warns with -Wrestrict.
    std::string where = path_.string();
    if (node && node->source().begin) {
      where += ':';
      where += std::to_string(node->source().begin.line);
    }
    throw Error(Errc::usage, where + ": " + what);
  }

  // Refuses keys the section does not define: a misspelt safety setting must not be ignored.
  void only(const toml::table& table, const std::string& section, std::set<std::string> allowed) const {
    for (const auto& [k, v] : table)
      if (!allowed.count(std::string(k.str())))
        fail(&v, "unknown setting '" + std::string(k.str()) + "' in [" + section + "]; check its spelling");
  }

  const toml::table* table(const toml::table& parent, const std::string& name) const {
    const toml::node* n = parent.get(name);
    if (!n) return nullptr;
    if (!n->is_table()) fail(n, "'" + name + "' must be a [" + name + "] section");
    return n->as_table();
  }

  void string(const toml::table& t, const std::string& section, const std::string& key, std::string& out) const {
    if (const toml::node* n = t.get(key)) {
      if (!n->is_string()) fail(n, "[" + section + "] " + key + " must be a quoted string");
      out = n->as_string()->get();
    }
  }

  void path(const toml::table& t, const std::string& section, const std::string& key,
            std::filesystem::path& out) const {
    std::string s;
    string(t, section, key, s);
    if (s.empty()) {
      if (t.get(key)) fail(t.get(key), "[" + section + "] " + key + " must not be empty");
      return;
    }
    out = std::filesystem::path(s).is_absolute() ? std::filesystem::path(s) : base_ / s;
  }

  void boolean(const toml::table& t, const std::string& section, const std::string& key, bool& out) const {
    if (const toml::node* n = t.get(key)) {
      if (!n->is_boolean()) fail(n, "[" + section + "] " + key + " must be true or false");
      out = n->as_boolean()->get();
    }
  }

  template <typename Int>
  void integer(const toml::table& t, const std::string& section, const std::string& key, Int& out,
               std::int64_t min, std::int64_t max) const {
    if (const toml::node* n = t.get(key)) {
      if (!n->is_integer() || n->as_integer()->get() < min || n->as_integer()->get() > max)
        fail(n, "[" + section + "] " + key + " must be a whole number from " + std::to_string(min) +
                    " to " + std::to_string(max));
      out = static_cast<Int>(n->as_integer()->get());
    }
  }

  void duration(const toml::table& t, const std::string& section, const std::string& key,
                std::chrono::seconds& out) const {
    if (const toml::node* n = t.get(key)) {
      if (n->is_integer())
        fail(n, "[" + section + "] " + key + " = " + std::to_string(n->as_integer()->get()) +
                    " has no unit: write it quoted with one, such as " + key + " = \"" +
                    std::to_string(n->as_integer()->get()) + "s\" or \"" + std::to_string(n->as_integer()->get()) +
                    "d\"");
      if (!n->is_string()) fail(n, "[" + section + "] " + key + " must be a quoted duration such as \"7d\"");
      try {
        out = parse_duration(n->as_string()->get());
      } catch (const Error& e) {
        fail(n, "[" + section + "] " + key + ": " + e.what());
      }
    }
  }

  void strings(const toml::table& t, const std::string& section, const std::string& key,
               std::vector<std::string>& out) const {
    if (const toml::node* n = t.get(key)) {
      if (!n->is_array()) fail(n, "[" + section + "] " + key + " must be a list of quoted strings");
      out.clear();
      for (const toml::node& e : *n->as_array()) {
        if (!e.is_string()) fail(&e, "[" + section + "] " + key + " must be a list of quoted strings");
        out.push_back(e.as_string()->get());
      }
    }
  }

  // A key name or a list of them (`key = "a"` or `key = ["a", "b"]`): each names a [keys.NAME]
  // section, none twice, and a list is never empty.
  void key_names(const toml::table& t, const std::string& section, const std::map<std::string, KeyConfig>& keys,
                 std::vector<std::string>& out) const {
    const toml::node* n = t.get("key");
    if (!n) return;
    const std::string what = "[" + section + "] key";
    const std::string form = " must be a key name or a list of them, such as key = \"catalog-2026\" or "
                             "key = [\"catalog-2026\", \"catalog-2027\"]";
    std::vector<const toml::node*> names;
    if (n->is_string()) {
      names.push_back(n);
    } else if (n->is_array()) {
      for (const toml::node& e : *n->as_array()) names.push_back(&e);
      if (names.empty()) fail(n, what + " is an empty list: name at least one [keys.NAME] section");
    } else {
      fail(n, what + form);
    }
    out.clear();
    for (const toml::node* e : names) {
      if (!e->is_string()) fail(e, what + form);
      std::string name = e->as_string()->get();
      if (name.empty()) fail(e, what + " names an empty key: use the NAME of a [keys.NAME] section");
      if (!keys.count(name)) fail(e, what + " = \"" + name + "\" names no [keys." + name + "] section");
      for (const std::string& seen : out)
        if (seen == name) fail(e, what + " names \"" + name + "\" twice: each key signs once");
      out.push_back(std::move(name));
    }
  }

  template <typename Id>
  void ids(const toml::table& t, const std::string& section, const std::string& key, std::vector<Id>& out) const {
    if (const toml::node* n = t.get(key)) {
      if (!n->is_array()) fail(n, "[" + section + "] " + key + " must be a list of numeric ids");
      out.clear();
      for (const toml::node& e : *n->as_array()) {
        if (!e.is_integer() || e.as_integer()->get() < 0 || e.as_integer()->get() > 0xfffffffe)
          fail(&e, "[" + section + "] " + key + " must be a list of numeric ids");
        out.push_back(static_cast<Id>(e.as_integer()->get()));
      }
    }
  }

 private:
  std::filesystem::path path_;
  std::filesystem::path base_;
};

// The format a template's file name says: "Release" (apt), "repodata/repomd.xml" (rpm),
// "<anything>.db" (pacman). Only literal text counts, so a part's value can't change it.
std::optional<RepositoryFormat> format_of(const repository::PathTemplate& path) {
  std::string shape;  // each part as "{}", which no literal can contain
  for (const repository::TemplatePiece& p : path.pieces) shape += p.is_part ? std::string("{}") : p.text;
  auto ends_with = [&](std::string_view tail) {
    return shape.size() >= tail.size() && shape.compare(shape.size() - tail.size(), tail.size(), tail) == 0;
  };
  auto whole_component = [&](std::string_view tail) {
    return ends_with(tail) && (shape.size() == tail.size() || shape[shape.size() - tail.size() - 1] == '/');
  };
  if (whole_component("Release")) return RepositoryFormat::apt;
  if (whole_component("repodata/repomd.xml")) return RepositoryFormat::rpm;
  std::size_t slash = shape.rfind('/');
  std::string_view last = std::string_view(shape).substr(slash == std::string::npos ? 0 : slash + 1);
  if (last.size() > 3 && last.substr(last.size() - 3) == ".db") return RepositoryFormat::pacman;
  return std::nullopt;
}

void read_repository(const Reader& r, const toml::node& node, const std::string& name, Config& c) {
  const std::string section = "repositories." + name;
  if (!node.is_table()) r.fail(&node, "[" + section + "] must be a section");
  const toml::table& t = *node.as_table();
  if (!repository::valid_repository_name(name))
    r.fail(&node, "repository name '" + name.substr(0, 40) + "' must be 1 to 32 characters of A-Z a-z 0-9 . _ - " +
                      "(it is what a request names before the ':')");
  RepositoryConfig repo;
  repo.name = name;
  static const std::set<std::string> kSettings = {"root", "path", "key", "verify_listed_files", "max_size"};
  r.path(t, section, "root", repo.root);
  r.string(t, section, "path", repo.path);
  r.string(t, section, "key", repo.key);
  r.boolean(t, section, "verify_listed_files", repo.verify_listed_files);
  r.integer(t, section, "max_size", repo.max_size, 1, std::int64_t{1} << 40);
  if (repo.root.empty()) r.fail(&node, "[" + section + "] needs root = \"folder the path is relative to\"");
  if (repo.path.empty())
    r.fail(t.get("path") ? t.get("path") : &node,
           "[" + section + "] needs path = \"...\", the signed file with a {part} for each part of a request, " +
               "such as \"dists/{suite}/Release\"");
  repository::PathTemplate path;
  try {
    path = repository::parse_path_template(repo.path);
  } catch (const Error& e) {
    r.fail(t.get("path"), "[" + section + "] path \"" + repo.path.substr(0, 80) + "\": " + e.what());
  }
  std::optional<RepositoryFormat> format = format_of(path);
  if (!format)
    r.fail(t.get("path"), "[" + section + "] path must name an apt Release (.../Release), an rpm " +
                              "repodata/repomd.xml or a pacman database (.../{repo}.db)");
  repo.format = *format;
  repo.parts = path.parts;
  for (const std::string& part : repo.parts) {
    if (kSettings.count(part))
      r.fail(t.get("path"), "[" + section + "] path: '{" + part + "}' is a setting's name; call the part otherwise");
    const toml::node* list = t.get(part);
    if (!list)
      r.fail(&node, "[" + section + "] needs " + part + " = [\"...\"], the values {" + part + "} may take");
    std::vector<std::string>& values = repo.values[part];
    r.strings(t, section, part, values);
    if (values.empty()) r.fail(list, "[" + section + "] " + part + " is empty: list the values {" + part + "} may take");
    for (const toml::node& e : *list->as_array())
      if (!repository::valid_part_value(e.as_string()->get()))
        r.fail(&e, "[" + section + "] " + part + ": \"" + e.as_string()->get().substr(0, 64) +
                       "\" must be 1 to 64 characters of A-Z a-z 0-9 . _ - and not \".\" or \"..\"");
  }
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (kSettings.count(key) || repo.values.count(key)) continue;
    r.fail(&v, "unknown setting '" + key + "' in [" + section + "]: it is neither a setting (root, path, key, " +
                   "verify_listed_files, max_size) nor a part the path names; check its spelling");
  }
  if (!repo.key.empty() && !c.keys.count(repo.key))
    r.fail(t.get("key"), "[" + section + "] key = \"" + repo.key + "\" names no [keys." + repo.key + "] section");
  if (repo.verify_listed_files && repo.format == RepositoryFormat::pacman)
    r.fail(t.get("verify_listed_files"),
           "[" + section + "] verify_listed_files: a pacman database lists only packages, which pacman checks " +
               "itself against the signed database; leave the setting out for a pacman repository");
  c.repositories.emplace(name, std::move(repo));
}

// TOML has no duration type, so `unlock_window = 7d` is a syntax error whose own message
// ("expected digit, saw 'd'") does not say what to do. When the line that failed is
// `KEY = VALUE` with an unquoted VALUE that reads as a duration, say to quote it.
std::string unquoted_duration_hint(std::string_view text, std::size_t line_no) {
  std::istringstream in{std::string(text)};
  std::string line;
  for (std::size_t n = 0; n < line_no && std::getline(in, line); ++n) {
  }
  if (line_no == 0 || !in) return {};
  std::size_t eq = line.find('=');
  if (eq == std::string::npos) return {};
  auto trim = [](std::string s) {
    std::size_t b = s.find_first_not_of(" \t\r");
    std::size_t e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  std::string key = trim(line.substr(0, eq));
  std::string value = line.substr(eq + 1);
  if (std::size_t hash = value.find('#'); hash != std::string::npos) value.resize(hash);
  value = trim(value);
  if (key.empty() || value.empty() || value.front() == '"' || value.front() == '\'') return {};
  try {
    parse_duration(value);
  } catch (const Error&) {
    return {};
  }
  return key + " = " + value + ": a duration is a quoted string; write " + key + " = \"" + value + "\"";
}

// RFC 7512 §2.4 module-name: the module's file name without "lib" and the ".so" suffix.
std::string module_name_of(const std::string& module) {
  std::string name = std::filesystem::path(module).filename().string();
  if (name.rfind("lib", 0) == 0) name.erase(0, 3);
  if (std::size_t so = name.find(".so"); so != std::string::npos) name.resize(so);
  return name;
}

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code ec1, ec2;
  if (std::filesystem::equivalent(a, b, ec1)) return true;
  return std::filesystem::weakly_canonical(a, ec1) == std::filesystem::weakly_canonical(b, ec2) && !ec1 && !ec2;
}

}  // namespace

const char* repository_format_name(RepositoryFormat format) noexcept {
  switch (format) {
    case RepositoryFormat::apt: return "apt";
    case RepositoryFormat::rpm: return "rpm";
    case RepositoryFormat::pacman: return "pacman";
  }
  return "apt";
}

std::vector<const KeyConfig*> Config::repository_keys(const RepositoryConfig& repository) const {
  if (!repository.key.empty()) return {&key(repository.key)};
  return signing_keys({}, catalogs.keys);
}

std::string keygen_command(const Config& config, const KeyConfig& key) {
  return "catsign keygen --config " + config.path.string() + " --key " + key.name +
         " --bits 3072 --uid \"Name <email>\"";
}

void require_certificate(const Config& config, const KeyConfig& key) {
  std::error_code ec;
  if (std::filesystem::exists(key.certificate, ec) || ec) return;  // other failures are reported on reading
  throw Error(Errc::missing_file, "key '" + key.name + "' has no certificate at " + key.certificate.string() +
                               ": make the key with `" + keygen_command(config, key) + "`");
}

const KeyConfig& Config::key(const std::optional<std::string>& name) const {
  auto names = [&] {
    std::string s;
    for (const auto& [k, v] : keys) s += (s.empty() ? "" : ", ") + k;
    return s.empty() ? std::string("none") : s;
  };
  if (name) {
    auto it = keys.find(*name);
    if (it == keys.end())
      throw Error(Errc::usage, "no key '" + *name + "' in " + path.string() + " (keys: " + names() + ")");
    return it->second;
  }
  if (keys.size() == 1) return keys.begin()->second;
  if (!catalogs.keys.empty()) return key(catalogs.keys.front());
  throw Error(Errc::usage, path.string() + " has several keys (" + names() + "): choose one with --key");
}

std::vector<const KeyConfig*> Config::signing_keys(const std::vector<std::string>& names,
                                                   const std::vector<std::string>& configured) const {
  const std::vector<std::string>& chosen = !names.empty() ? names : configured;
  std::vector<const KeyConfig*> out;
  for (const std::string& name : chosen) {
    const KeyConfig* k = &key(name);
    for (const KeyConfig* seen : out)
      if (seen == k) throw Error(Errc::usage, "key '" + name + "' is named twice: each key signs once");
    out.push_back(k);
  }
  if (out.empty()) out.push_back(&key(std::nullopt));
  return out;
}

Config parse_config(std::string_view text, const std::filesystem::path& path) {
  Reader r(path);
  toml::table root;
  try {
    root = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    std::string hint = unquoted_duration_hint(text, e.source().begin.line);
    throw Error(Errc::usage, path.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                                 (hint.empty() ? std::string(e.description()) : hint));
  }
  Config c;
  c.path = path;
  std::vector<std::tuple<const toml::node*, std::string, token::Pkcs11Uri>> uris;  // of [keys.*], in order
  r.only(root, "top level", {"token", "keys", "daemon", "catalogs", "packages", "repositories", "spool", "audit", "http"});
  for (const auto& [k, v] : root) {
    const std::string name(k.str());  // a named string, not a temporary: see Reader::fail
    if (!v.is_table()) r.fail(&v, "'" + name + "' must be a section, such as [" + name + "]");
  }

  const toml::node* module_node = nullptr;
  if (const toml::table* t = r.table(root, "token")) {
    r.only(*t, "token", {"module", "sessions", "sign_timeout", "pinentry"});
    module_node = t->get("module");
    r.string(*t, "token", "pinentry", c.token.pinentry);
    r.string(*t, "token", "module", c.token.module);
    r.integer(*t, "token", "sessions", c.token.sessions, 1, 64);
    r.duration(*t, "token", "sign_timeout", c.token.sign_timeout);
  }
  if (const toml::table* t = r.table(root, "keys")) {
    for (const auto& [name, node] : *t) {
      std::string section = "keys." + std::string(name.str());
      if (!node.is_table()) r.fail(&node, "[" + section + "] must be a section");
      const toml::table& kt = *node.as_table();
      r.only(kt, section, {"uri", "certificate", "revocation", "uid"});
      KeyConfig k;
      k.name = std::string(name.str());
      r.string(kt, section, "uri", k.uri);
      r.path(kt, section, "certificate", k.certificate);
      r.path(kt, section, "revocation", k.revocation);
      r.string(kt, section, "uid", k.uid);
      if (k.uri.empty()) r.fail(&node, "[" + section + "] needs uri = \"pkcs11:token=...;object=...\"");
      if (k.certificate.empty()) r.fail(&node, "[" + section + "] needs certificate = \"path of the public key\"");
      token::Pkcs11Uri uri;
      try {
        uri = token::Pkcs11Uri::parse(k.uri);
      } catch (const Error& e) {
        r.fail(kt.get("uri"), "[" + section + "] uri: " + e.what());
      }
      uris.emplace_back(&node, section, std::move(uri));
      c.keys.emplace(k.name, std::move(k));
    }
  }
  // RFC 7512 §2.4 lets a URI name its module (module-path=, module-name=). Every key shares
  // the one PKCS#11 context of [token] module, so such a query is used or refused, never
  // silently ignored: module-path= supplies the module when [token] module is not set, and
  // must name the same file when it is; module-name= must match the module in use.
  const toml::node* module_from = module_node;
  for (const auto& [node, section, uri] : uris) {
    if (!uri.module_path) continue;
    if (!module_from) {
      c.token.module = *uri.module_path;
      module_from = node;
    } else if (!same_file(*uri.module_path, c.token.module)) {
      r.fail(node, "[" + section + "] uri names module-path=" + *uri.module_path + " but " +
                       (module_from == module_node ? "[token] module is " : "another key's uri names ") +
                       c.token.module + ": every key is on the one configured module; make them the same or remove "
                       "module-path from the uri");
    }
  }
  for (const auto& [node, section, uri] : uris) {
    if (uri.module_name && *uri.module_name != module_name_of(c.token.module))
      r.fail(node, "[" + section + "] uri names module-name=" + *uri.module_name + " but the module in use is " +
                       c.token.module + " (module-name=" + module_name_of(c.token.module) +
                       "): fix [token] module or remove module-name from the uri");
  }
  if (const toml::table* t = r.table(root, "daemon")) {
    r.only(*t, "daemon", {"socket", "admin_socket", "sign_uids", "sign_gids", "admin_uids", "unlock_window",
                          "warn_before", "expiry_command", "request_timeout", "max_connections"});
    r.path(*t, "daemon", "socket", c.daemon.socket);
    r.path(*t, "daemon", "admin_socket", c.daemon.admin_socket);
    r.ids(*t, "daemon", "sign_uids", c.daemon.sign_uids);
    r.ids(*t, "daemon", "sign_gids", c.daemon.sign_gids);
    r.ids(*t, "daemon", "admin_uids", c.daemon.admin_uids);
    r.duration(*t, "daemon", "unlock_window", c.daemon.unlock_window);
    r.duration(*t, "daemon", "warn_before", c.daemon.warn_before);
    r.string(*t, "daemon", "expiry_command", c.daemon.expiry_command);
    r.duration(*t, "daemon", "request_timeout", c.daemon.request_timeout);
    r.integer(*t, "daemon", "max_connections", c.daemon.max_connections, 1, 65536);
  }
  if (const toml::table* t = r.table(root, "catalogs")) {
    r.only(*t, "catalogs", {"root", "releases", "arches", "osrels", "key", "resign_form",
                            "require_package_signatures", "package_keyring", "max_size"});
    r.path(*t, "catalogs", "root", c.catalogs.root);
    r.strings(*t, "catalogs", "releases", c.catalogs.releases);
    r.strings(*t, "catalogs", "arches", c.catalogs.arches);
    r.strings(*t, "catalogs", "osrels", c.catalogs.osrels);
    r.key_names(*t, "catalogs", c.keys, c.catalogs.keys);
    r.string(*t, "catalogs", "resign_form", c.catalogs.resign_form);
    if (c.catalogs.resign_form != "cleartext" && c.catalogs.resign_form != "detached")
      r.fail(t->get("resign_form"), "[catalogs] resign_form must be \"cleartext\" or \"detached\"");
    r.boolean(*t, "catalogs", "require_package_signatures", c.catalogs.require_package_signatures);
    r.path(*t, "catalogs", "package_keyring", c.catalogs.package_keyring);
    r.integer(*t, "catalogs", "max_size", c.catalogs.max_size, 1, std::int64_t{1} << 40);
  }
  if (const toml::table* t = r.table(root, "packages")) {
    r.only(*t, "packages", {"root", "suffixes", "key"});
    r.path(*t, "packages", "root", c.packages.root);
    r.strings(*t, "packages", "suffixes", c.packages.suffixes);
    r.key_names(*t, "packages", c.keys, c.packages.keys);
  }
  if (const toml::table* t = r.table(root, "repositories")) {
    for (const auto& [name, node] : *t) read_repository(r, node, std::string(name.str()), c);
  }
  if (const toml::table* t = r.table(root, "spool")) {
    r.only(*t, "spool", {"dir"});
    r.path(*t, "spool", "dir", c.spool_dir);
  }
  if (const toml::table* t = r.table(root, "http")) {
    HttpConfig& h = c.http;
    h.enabled = true;
    r.only(*t, "http", {"listen", "tls_certificate", "tls_key", "client_ca", "client_names", "allow", "tls",
                        "max_connections"});
    r.strings(*t, "http", "listen", h.listen);
    r.path(*t, "http", "tls_certificate", h.tls_certificate);
    r.path(*t, "http", "tls_key", h.tls_key);
    r.path(*t, "http", "client_ca", h.client_ca);
    r.strings(*t, "http", "client_names", h.client_names);
    r.strings(*t, "http", "allow", h.allow);
    r.boolean(*t, "http", "tls", h.tls);
    r.integer(*t, "http", "max_connections", h.max_connections, 1, 65536);
    // Each entry is parsed here, so a typo stops the daemon at start with its line number
    // instead of leaving a listener off or a range open.
    const toml::node* listen = t->get("listen");
    for (const std::string& l : h.listen) {
      try {
        (void)parse_listen_address(l);
      } catch (const Error& e) {
        r.fail(listen, std::string("[http] listen: ") + e.what());
      }
    }
    for (const std::string& a : h.allow) {
      try {
        (void)AddressRange::parse(a);
      } catch (const Error& e) {
        r.fail(t->get("allow"), std::string("[http] allow: ") + e.what());
      }
    }
    for (const std::string& n : h.client_names)
      if (n.empty() || n.size() > 255)
        r.fail(t->get("client_names"), "[http] client_names must be names of 1 to 255 characters");
    if (h.tls) {
      if (h.tls_certificate.empty() || h.tls_key.empty())
        r.fail(t,
               "[http] needs tls_certificate and tls_key (PEM files), or an explicit tls = false for plain HTTP");
    } else if (!h.client_ca.empty() || !h.client_names.empty()) {
      r.fail(t->get("tls"), "[http] client_ca and client_names need TLS: remove tls = false");
    }
    if (!h.client_names.empty() && h.client_ca.empty())
      r.fail(t->get("client_names"), "[http] client_names needs client_ca, the CA that issues those certificates");
  }
  if (const toml::table* t = r.table(root, "audit")) {
    r.only(*t, "audit", {"log"});
    r.path(*t, "audit", "log", c.audit_log);
  }
  return c;
}

Config load_config(const std::filesystem::path& path) {
  Bytes text;
  try {
    text = read_file(path, 1 << 20);
  } catch (const Error& e) {
    throw Error(Errc::usage, std::string(e.what()) + " (give the configuration with --config FILE)");
  }
  return parse_config(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()),
                      std::filesystem::absolute(path));
}

}  // namespace catsign
