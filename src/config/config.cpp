#include "catsign/config.hpp"

#include <set>
#include <toml++/toml.h>

#include "catsign/error.hpp"
#include "catsign/util/duration.hpp"
#include "catsign/util/file.hpp"

namespace catsign {

namespace {

class Reader {
 public:
  explicit Reader(const std::filesystem::path& path) : path_(path), base_(path.parent_path()) {}

  [[noreturn]] void fail(const toml::node* node, const std::string& what) const {
    std::string where = path_.string();
    if (node && node->source().begin) where += ":" + std::to_string(node->source().begin.line);
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

}  // namespace

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
  if (!catalogs.key.empty()) return key(catalogs.key);
  throw Error(Errc::usage, path.string() + " has several keys (" + names() + "): choose one with --key");
}

Config parse_config(std::string_view text, const std::filesystem::path& path) {
  Reader r(path);
  toml::table root;
  try {
    root = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    throw Error(Errc::usage, path.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                                 std::string(e.description()));
  }
  Config c;
  c.path = path;
  r.only(root, "top level", {"token", "keys", "daemon", "catalogs", "packages", "spool", "audit"});
  for (const auto& [k, v] : root)
    if (!v.is_table()) r.fail(&v, "'" + std::string(k.str()) + "' must be a section, such as [" + std::string(k.str()) + "]");

  if (const toml::table* t = r.table(root, "token")) {
    r.only(*t, "token", {"module", "sessions", "sign_timeout", "pinentry"});
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
      r.only(kt, section, {"uri", "certificate", "revocation"});
      KeyConfig k;
      k.name = std::string(name.str());
      r.string(kt, section, "uri", k.uri);
      r.path(kt, section, "certificate", k.certificate);
      r.path(kt, section, "revocation", k.revocation);
      if (k.uri.empty()) r.fail(&node, "[" + section + "] needs uri = \"pkcs11:token=...;object=...\"");
      if (k.certificate.empty()) r.fail(&node, "[" + section + "] needs certificate = \"path of the public key\"");
      c.keys.emplace(k.name, std::move(k));
    }
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
    r.string(*t, "catalogs", "key", c.catalogs.key);
    r.string(*t, "catalogs", "resign_form", c.catalogs.resign_form);
    if (c.catalogs.resign_form != "cleartext" && c.catalogs.resign_form != "detached")
      r.fail(t->get("resign_form"), "[catalogs] resign_form must be \"cleartext\" or \"detached\"");
    r.boolean(*t, "catalogs", "require_package_signatures", c.catalogs.require_package_signatures);
    r.path(*t, "catalogs", "package_keyring", c.catalogs.package_keyring);
    r.integer(*t, "catalogs", "max_size", c.catalogs.max_size, 1, std::int64_t{1} << 40);
    if (!c.catalogs.key.empty() && !c.keys.count(c.catalogs.key))
      r.fail(t->get("key"), "[catalogs] key = \"" + c.catalogs.key + "\" names no [keys." + c.catalogs.key + "] section");
  }
  if (const toml::table* t = r.table(root, "packages")) {
    r.only(*t, "packages", {"root", "suffixes", "key"});
    r.path(*t, "packages", "root", c.packages.root);
    r.strings(*t, "packages", "suffixes", c.packages.suffixes);
    r.string(*t, "packages", "key", c.packages.key);
    if (!c.packages.key.empty() && !c.keys.count(c.packages.key))
      r.fail(t->get("key"), "[packages] key = \"" + c.packages.key + "\" names no [keys." + c.packages.key + "] section");
  }
  if (const toml::table* t = r.table(root, "spool")) {
    r.only(*t, "spool", {"dir"});
    r.path(*t, "spool", "dir", c.spool_dir);
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
