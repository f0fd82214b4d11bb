// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/signing_service.hpp"

#include <spdlog/spdlog.h>

#include "catsign/catalog/package_gate.hpp"
#include "catsign/catalog/tuple.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/cleartext.hpp"
#include "catsign/repository/listed_files.hpp"
#include "catsign/util/digest.hpp"
#include "catsign/util/duration.hpp"
#include "catsign/util/quote.hpp"

namespace catsign::daemon {

namespace {

using Clock = KeyHolder::Clock;

// Packages can be large; they are streamed, so the cap only bounds the work.
constexpr std::uint64_t kMaxPackageSize = std::uint64_t{8} << 30;

nlohmann::json peer_json(const Peer& peer) {
  if (!peer.address.empty()) return {{"address", peer.address}, {"certificate", peer.certificate}};
  return {{"uid", peer.uid}, {"gid", peer.gid}, {"pid", peer.pid}};
}

// For the log: "uid 1000 pid 42", or "192.0.2.7:51234 (CN=push)" over HTTPS.
std::string peer_text(const Peer& peer) {
  if (!peer.address.empty())
    return peer.address + (peer.certificate.empty() ? "" : " (" + peer.certificate + ")");
  return "uid " + std::to_string(peer.uid) + " pid " + std::to_string(peer.pid);
}

// What is checked is exactly what is signed: a file that is not the one the client named is
// refused before the token sees anything.
void require_requested_hash(const std::string& what, const Bytes& digest, const Request& request) {
  if (digest == request.sha256) return;
  throw Error(Errc::hash_mismatch, what + " has sha256 " + to_hex(digest) +
                                       ", not the one requested: nothing was signed; recompute the hash of the "
                                       "file you mean to publish");
}

}  // namespace

SigningService::Settings::Settings(std::shared_ptr<const Config> c)
    : config(std::move(c)), root(config->catalogs.root), package_keys(config->packages.keys) {
  for (const KeyConfig* k : config->signing_keys({}, config->catalogs.keys)) catalog_keys.push_back(k->name);
  for (const auto& [name, repository] : config->repositories)
    repository_roots.emplace(name, std::make_unique<catalog::Root>(repository.root, "repository"));
  if (!config->packages.root.empty()) packages_root = std::make_unique<catalog::Root>(config->packages.root, "package");
  if (config->catalogs.require_package_signatures) {
    const std::filesystem::path& file = config->catalogs.package_keyring;
    if (file.empty())
      throw Error(Errc::usage, "[catalogs] require_package_signatures = true needs package_keyring = \"file\"");
    try {
      keyring = catalog::read_package_keyring(read_file(file, 16 << 20));
    } catch (const Error& e) {
      throw Error(Errc::usage, "package keyring " + file.string() + ": " + e.what());
    }
    if (keyring.empty()) throw Error(Errc::usage, "package keyring " + file.string() + " holds no certificate");
  }
}

SigningService::SigningService(std::shared_ptr<const Config> config, KeyHolder& catalog_key, AuditLog& audit)
    : key_(catalog_key), audit_(audit), settings_(std::make_shared<const Settings>(std::move(config))) {
  // Every catalog key must be there: a catalog must never go out with one signature fewer than
  // configured. (A package key without a certificate turns package signing off instead.)
  const Config& c = *settings_->config;
  for (const std::string& name : settings_->catalog_keys)
    if (!key_.has_key(name)) require_certificate(c, c.key(name));
}

void SigningService::reconfigure(std::shared_ptr<const Config> next) {
  // Everything that can fail happens before the swap.
  auto built = std::make_shared<const Settings>(std::move(next));
  std::lock_guard lock(settings_mutex_);
  settings_ = std::move(built);
}

std::shared_ptr<const SigningService::Settings> SigningService::settings() const {
  std::lock_guard lock(settings_mutex_);
  return settings_;
}

void SigningService::set_reload_error(const std::string& why) {
  std::lock_guard lock(last_error_mutex_);
  reload_error_ = why;
}

void SigningService::set_last_error(const std::string& e) {
  std::lock_guard lock(last_error_mutex_);
  last_error_ = e;
}

Outcome SigningService::refuse(const Error& e, nlohmann::json& record) {
  record["result"] = "refused";
  record["code"] = reply_code_name(e.code());
  record["message"] = e.what();
  set_last_error(std::string(reply_code_name(e.code())) + ": " + e.what());
  return Outcome::refused(e);
}

void SigningService::count_result(const std::string& result) {
  std::lock_guard lock(results_mutex_);
  ++results_[result];
}

template <typename Produce>
Outcome SigningService::audited(nlohmann::json& record, const std::string& what, const Peer& peer, Produce&& produce) {
  Outcome outcome;
  try {
    signing::StringWriter out;
    signing::Facts facts = produce(out);
    record["result"] = "ok";
    std::string keys;
    for (const openpgp::Fingerprint& k : facts.keys) {
      // Appended, not `"," + temporary`: GCC 12 at -O3 takes that for an overlapping memcpy.
      if (!keys.empty()) keys += ',';
      keys += openpgp::format_fingerprint(k);
    }
    record["key"] = keys;
    record["signature_sha256"] = sha256_hex(out.text);
    outcome = Outcome::done(std::move(out.text), std::move(facts));
  } catch (const Error& e) {
    outcome = refuse(e, record);
  } catch (const std::exception& e) {
    outcome = refuse(Error(Errc::internal, std::string("signing failed: ") + e.what()), record);
  }
  // The record is on disk before the client hears anything; if it can't be written, the
  // signature is withheld. A signature's "signing" record, on disk already, fixed it; the
  // result that completes it follows without holding up the reply.
  try {
    if (outcome.ok() && record.contains("signed_digest"))
      audit_.append_soon(record);
    else
      audit_.append(record);
  } catch (const std::exception& e) {
    spdlog::error("audit log write failed, signature withheld: {}", e.what());
    set_last_error(std::string("audit log: ") + e.what());
    count_result(errc_name(Errc::internal));
    return Outcome::refused(Errc::internal,
                            std::string("the audit log could not be written, so nothing was released: ") + e.what());
  }
  count_result(outcome.ok() ? "ok" : errc_name(*outcome.refusal));
  if (outcome.ok()) {
    ++signatures_;
    last_signature_time_ = std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
    spdlog::info("signed {} for {}", what, peer_text(peer));
  } else {
    spdlog::warn("refused {} for {}: {}", what, peer_text(peer), outcome.message);
  }
  return outcome;
}

KeyHolder::WhileSigning SigningService::audit_while_signing(nlohmann::json& record, const std::string& key) {
  return [this, &record, key](const openpgp::PreparedSignature& prepared) {
    // The key and the digest say what is signed before the token signs it (for RSA PKCS#1
    // v1.5 and Ed25519 they even fix the signature's bytes; see openpgp::PreparedSignature), so
    // this record goes to disk while the token works: the fsync no longer waits behind the
    // token. The "sign" record after it adds the signature's own SHA-256. With several keys
    // each has its own "signing" record, and the "sign" record lists their digests in key
    // order, comma-separated like its "key".
    nlohmann::json signing = record;
    signing["request"] = record["event"];
    signing["event"] = "signing";
    signing["key"] = openpgp::format_fingerprint(key_.fingerprint(key));
    signing["signed_digest"] = to_hex(prepared.digest);
    audit_.append(std::move(signing));
    auto seen = record.find("signed_digest");
    record["signed_digest"] = (seen != record.end() ? seen->get<std::string>() + "," : std::string()) + to_hex(prepared.digest);
  };
}

Outcome SigningService::sign(const Request& request, const Peer& peer) {
  nlohmann::json record = {{"event", "sign"}, {"peer", peer_json(peer)}, {"tuple", request.target},
                           {"requested_sha256", to_hex(request.sha256)}, {"form", signing::form_name(request.form)}};
  auto snapshot = settings();
  return audited(record, "SIGN " + request.target, peer,
                 [&](signing::StringWriter& out) { return sign_catalog(*snapshot, request, out, record); });
}

Outcome SigningService::sign_package(const Request& request, const Peer& peer) {
  nlohmann::json record = {{"event", "signpkg"}, {"peer", peer_json(peer)}, {"path", request.target},
                           {"requested_sha256", to_hex(request.sha256)}};
  auto snapshot = settings();
  return audited(record, "SIGNPKG " + request.target, peer,
                 [&](signing::StringWriter& out) { return sign_package_file(*snapshot, request, out, record); });
}

Outcome SigningService::handle(const Request& request, const Peer& peer) {
  if (request.kind == Request::Kind::sign) return sign(request, peer);
  if (request.kind == Request::Kind::signpkg) return sign_package(request, peer);
  return Outcome::refused(Errc::bad_request, "only SIGN and SIGNPKG are accepted here");
}

void SigningService::require_unlocked() {
  // Locked? Say so before reading a large file for nothing.
  LockState state = key_.state();
  if (!state.unlocked && !key_.expire_if_due(Clock::now())) throw Error(Errc::locked, describe_locked(state, Clock::now()));
}

signing::Facts SigningService::sign_package_file(const Settings& s, const Request& request,
                                                 signing::StringWriter& out, nlohmann::json& record) {
  const Config& config = *s.config;
  if (!s.packages_root || s.package_keys.empty())
    throw Error(Errc::refused, "package signing is not configured: set [packages] root and key");
  for (const std::string& name : s.package_keys)
    if (!key_.has_key(name))
      throw Error(Errc::refused, "package signing is off: the package key '" + name +
                                     "' has no certificate yet; make it with `" +
                                     keygen_command(config, config.key(name)) + "`, then restart catsignd");
  const std::string& path = request.target;
  bool suffix_ok = false;
  for (const std::string& suffix : config.packages.suffixes)
    if (path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
      suffix_ok = true;
  if (!suffix_ok)
    throw Error(Errc::unknown_target, quote_for_message(path) + " does not end in a configured package suffix");
  catalog::OpenedFile file;
  try {
    file = catalog::open_beneath(*s.packages_root, path, kMaxPackageSize);
  } catch (const Error& e) {
    throw Error(e.code() == Errc::malformed ? Errc::bad_request : Errc::unknown_target, e.what());
  }
  require_unlocked();
  HeldKeySigners signers = held_signers(s.package_keys, record);
  openpgp::SignOptions options;
  options.hash = signing::hash_for(signers.each);
  signing::Job job(request.form, options, out);
  job.read({file.fd.get(), path, kMaxPackageSize, file.size});
  record["file_sha256"] = to_hex(job.source_sha256());
  require_requested_hash("package " + path, job.source_sha256(), request);
  return job.sign(signers.each);
}

void SigningService::check_gate(const Settings& s, const std::string& catalog_text, const std::string& tuple,
                                nlohmann::json& record) {
  catalog::OpenCswCatalog parsed;
  try {
    parsed = catalog::parse_opencsw_catalog(catalog_text);
  } catch (const Error& e) {
    throw Error(Errc::packages_unsigned, std::string("the catalog does not parse, so its packages can't be checked: ") + e.what());
  }
  catalog::GateReport report = catalog::check_packages(parsed, s.root, tuple, s.keyring);
  if (report.ok()) return;
  // The first failures by name, the rest counted: an audit line stays bounded however large
  // the catalog.
  constexpr std::size_t kNamedInAudit = 50;
  nlohmann::json failed = nlohmann::json::array();
  for (const catalog::PackageResult& p : report.packages) {
    if (p.status == catalog::PackageStatus::ok) continue;
    if (failed.size() == kNamedInAudit) break;
    failed.push_back({{"file", p.file}, {"status", catalog::package_status_name(p.status)}});
  }
  record["packages_failed"] = failed;
  record["packages_failed_count"] = report.failures();
  throw Error(Errc::packages_unsigned, report.summary());
}

void SigningService::check_listed_files(const Settings& s, const repository::Target& target,
                                        const std::string& text, nlohmann::json& record) {
  repository::ListedReport report;
  try {
    report = repository::verify_listed_files(target, *s.repository_roots.at(target.repository->name), text);
  } catch (const Error& e) {
    if (e.code() == Errc::io) throw;
    throw Error(Errc::index_mismatch,
                std::string("the index does not parse, so what it lists can't be checked: ") + e.what());
  }
  if (report.ok()) return;
  // The first failures by name, the rest counted, as for the package gate.
  constexpr std::size_t kNamedInAudit = 50;
  nlohmann::json failed = nlohmann::json::array();
  for (const repository::ListedResult& f : report.files) {
    if (f.status == repository::ListedStatus::ok) continue;
    if (failed.size() == kNamedInAudit) break;
    failed.push_back({{"file", f.path}, {"status", repository::listed_status_name(f.status)}, {"detail", f.detail}});
  }
  record["listed_failed"] = failed;
  record["listed_failed_count"] = report.failures();
  throw Error(Errc::index_mismatch, report.summary());
}

signing::Facts SigningService::sign_index(const Settings& s, const Request& request, signing::StringWriter& out,
                                          nlohmann::json& record) {
  const Config& config = *s.config;
  repository::Target index;
  try {
    index = repository::parse_target(request.target, config);
  } catch (const Error& e) {
    throw Error(e.code() == Errc::malformed ? Errc::bad_request : Errc::unknown_target, e.what());
  }
  const RepositoryConfig& repo = *index.repository;
  record["index"] = index.path;
  catalog::OpenedFile file;
  try {
    file = catalog::open_beneath(*s.repository_roots.at(repo.name), index.path, repo.max_size);
  } catch (const Error& e) {
    throw Error(Errc::unknown_target, e.what());
  }
  require_unlocked();
  // A repository without a key of its own is signed like the catalogs: by every catalog key.
  std::vector<std::string> keys;
  for (const KeyConfig* k : config.repository_keys(repo)) keys.push_back(k->name);
  HeldKeySigners signers = held_signers(keys, record);
  openpgp::SignOptions options;
  options.hash = signing::hash_for(signers.each);
  options.notations.push_back({openpgp::kCatalogNotation, index.name, true});
  signing::Job job(request.form, options, out);
  // With verify_listed_files, the index's text is kept from the same single read for the check.
  std::string text;
  job.read({file.fd.get(), index.path, repo.max_size, file.size}, [&](ByteView chunk) {
    if (repo.verify_listed_files) text.append(chunk.begin(), chunk.end());
  });
  record["file_sha256"] = to_hex(job.source_sha256());
  require_requested_hash("index " + index.name, job.source_sha256(), request);
  if (repo.verify_listed_files) check_listed_files(s, index, text, record);
  return job.sign(signers.each);
}

signing::Facts SigningService::sign_catalog(const Settings& s, const Request& request, signing::StringWriter& out,
                                            nlohmann::json& record) {
  // NAME:value/... names a [repositories.NAME] index; anything else is an OpenCSW tuple.
  if (repository::names_repository(request.target)) return sign_index(s, request, out, record);
  const Config& config = *s.config;
  catalog::Tuple tuple;
  try {
    tuple = catalog::parse_tuple(request.target, config.catalogs);
  } catch (const Error& e) {
    throw Error(e.code() == Errc::malformed ? Errc::bad_request : Errc::unknown_target, e.what());
  }
  catalog::OpenedFile file;
  try {
    file = catalog::open_beneath(s.root, tuple.catalog_path(), config.catalogs.max_size);
  } catch (const Error& e) {
    throw Error(Errc::unknown_target, e.what());
  }
  require_unlocked();
  HeldKeySigners signers = held_signers(s.catalog_keys, record);
  openpgp::SignOptions options;
  options.hash = signing::hash_for(signers.each);
  options.notations.push_back({openpgp::kCatalogNotation, tuple.str(), true});
  signing::Job job(request.form, options, out);
  // With the gate on, the catalog's text is kept from the same single read for the check.
  const bool gate = config.catalogs.require_package_signatures;
  std::string text;
  job.read({file.fd.get(), tuple.catalog_path(), config.catalogs.max_size, file.size},
           [&](ByteView chunk) {
             if (gate) text.append(chunk.begin(), chunk.end());
           });
  record["file_sha256"] = to_hex(job.source_sha256());
  require_requested_hash("catalog " + tuple.str(), job.source_sha256(), request);
  if (gate) check_gate(s, text, tuple.str(), record);
  return job.sign(signers.each);
}

SigningService::HeldKeySigners SigningService::held_signers(const std::vector<std::string>& keys,
                                                            nlohmann::json& record) {
  HeldKeySigners out;
  for (const std::string& name : keys)
    out.held.push_back(std::make_unique<HeldKeySigner>(key_, name, audit_while_signing(record, name)));
  for (const auto& signer : out.held) out.each.push_back(signer.get());
  return out;
}

std::string SigningService::catalog_fingerprints() const {
  std::string out;
  for (const std::string& name : settings()->catalog_keys) {
    if (!out.empty()) out += ',';  // not `"," + temporary`: GCC 12 -Wrestrict at -O3
    out += openpgp::format_fingerprint(key_.fingerprint(name));
  }
  return out;
}

std::string SigningService::catalog_keys_described() const {
  std::string out;
  for (const std::string& name : settings()->catalog_keys) {
    if (!out.empty()) out += ", ";
    out += openpgp::format_fingerprint(key_.fingerprint(name));
    out += " (" + name + ")";
  }
  return out;
}

std::string SigningService::status() const {
  const auto st = settings();
  const Config& config = *st->config;
  LockState s = key_.state();
  auto now = Clock::now();
  long long left = s.unlocked ? std::chrono::duration_cast<std::chrono::seconds>(s.expires - now).count() : 0;
  if (left < 0) left = 0;
  nlohmann::json j = {
      {"state", s.unlocked ? "unlocked" : "locked"},
      {"expires_in_s", left},
      {"locked_reason", s.unlocked ? "" : s.locked_reason},
      {"since", std::chrono::duration_cast<std::chrono::seconds>(s.since.time_since_epoch()).count()},
      {"key_fingerprint", openpgp::format_fingerprint(key_.fingerprint(st->catalog_keys.front()))},
      {"token_present", s.unlocked},
      {"signatures", signatures_.load()},
      {"sessions", config.token.sessions},
      {"unlock_window_s", config.daemon.unlock_window.count()},
      {"warn_before_s", config.daemon.warn_before.count()},
      {"last_signature_time", last_signature_time_.load()},
  };
  // Seconds until the first configured key expires (negative once it has), null when none
  // expires: monitoring warns on this before clients start rejecting signatures.
  if (auto expiry = key_.soonest_key_expiry(now)) {
    j["key_expires_in_s"] = expiry->left.count();
    j["key_expiring"] = expiry->key;
  } else {
    j["key_expires_in_s"] = nullptr;
  }
  // Every catalog key, in signing order (several while a key is rotated).
  j["key_fingerprints"] = nlohmann::json::array();
  for (const std::string& name : st->catalog_keys)
    j["key_fingerprints"].push_back(openpgp::format_fingerprint(key_.fingerprint(name)));
  {
    std::lock_guard lock(results_mutex_);
    j["signatures_by_result"] = nlohmann::json::object();
    j["signatures_by_result"]["ok"] = 0;
    for (const auto& [result, n] : results_) j["signatures_by_result"][result] = n;
  }
  {
    std::lock_guard lock(last_error_mutex_);
    j["last_error"] = last_error_;
    j["reload_error"] = reload_error_;
  }
  return j.dump();
}

Outcome SigningService::unlock(const SecureString& pin, const Peer& peer) {
  const auto snapshot = settings();
  const Config& config = *snapshot->config;
  nlohmann::json record = {{"event", "unlock"}, {"peer", peer_json(peer)}};
  Outcome outcome;
  try {
    std::vector<std::string> warnings = key_.unlock(pin, config.daemon.unlock_window);
    record["result"] = "ok";
    record["window_s"] = config.daemon.unlock_window.count();
    record["key"] = catalog_fingerprints();
    std::string reply = "unlocked for " + format_duration(config.daemon.unlock_window) + "\n";
    if (!warnings.empty()) record["warnings"] = warnings;
    for (const std::string& w : warnings) reply += "warning: " + w + "\n";
    outcome = Outcome::done(std::move(reply));
    spdlog::info("unlocked by uid {} for {}", peer.uid, format_duration(config.daemon.unlock_window));
  } catch (const Error& e) {
    outcome = refuse(e, record);
    spdlog::warn("unlock by uid {} refused: {}", peer.uid, e.what());
  } catch (const std::exception& e) {
    outcome = refuse(Error(Errc::internal, e.what()), record);
    spdlog::warn("unlock by uid {} failed: {}", peer.uid, e.what());
  }
  try {
    audit_.append(record);
  } catch (const std::exception& e) {
    // An unlock nobody can audit is not kept.
    key_.lock("audit log write failed");
    return Outcome::refused(Errc::internal, std::string("the audit log could not be written; locked again: ") + e.what());
  }
  return outcome;
}

Outcome SigningService::lock(const std::string& reason, const Peer& peer) {
  std::string why = reason.empty() ? "locked by uid " + std::to_string(peer.uid) : reason;
  bool was_unlocked = key_.lock(why);
  spdlog::info("lock by uid {}: {}", peer.uid, why);
  try {
    audit_.append({{"event", "lock"}, {"peer", peer_json(peer)}, {"reason", why}, {"was_unlocked", was_unlocked},
                   {"result", "ok"}});
  } catch (const std::exception& e) {
    spdlog::error("audit log write failed for lock: {}", e.what());
  }
  return Outcome::done(was_unlocked ? "locked\n" : "already locked\n");
}

bool SigningService::expire_if_due() {
  if (!key_.expire_if_due(Clock::now())) return false;
  spdlog::warn("unlock window ended: locked; a person must run catsign unlock");
  try {
    audit_.append({{"event", "lock"}, {"reason", "unlock window ended"}, {"result", "ok"}});
  } catch (const std::exception& e) {
    spdlog::error("audit log write failed for expiry: {}", e.what());
  }
  return true;
}

void SigningService::audit_refusal(const Peer& peer, const Error& e, const std::string& request) {
  nlohmann::json record = {{"event", "refuse"}, {"peer", peer_json(peer)}, {"request", request.substr(0, 200)}};
  refuse(e, record);
  try {
    audit_.append(record);
  } catch (const std::exception& ex) {
    spdlog::error("audit log write failed for a refusal: {}", ex.what());
  }
}

}  // namespace catsign::daemon
