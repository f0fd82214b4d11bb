#include "catsign/daemon/signing_service.hpp"

#include <botan/hash.h>
#include <spdlog/spdlog.h>

#include "catsign/catalog/package_gate.hpp"
#include "catsign/catalog/tuple.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/cleartext.hpp"
#include "catsign/util/duration.hpp"

namespace catsign::daemon {

namespace {

using Clock = KeyHolder::Clock;

// Packages can be large; they are streamed, so the cap only bounds the work.
constexpr std::uint64_t kMaxPackageSize = std::uint64_t{8} << 30;

nlohmann::json peer_json(const Peer& peer) {
  return {{"uid", peer.uid}, {"gid", peer.gid}, {"pid", peer.pid}};
}

std::string sha256_hex(std::string_view data) {
  auto h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  return to_hex(h->final_stdvec());
}

// Collects a cleartext message in memory: the daemon replies with it, so it must be whole
// before it is sent.
struct StringWriter final : FileWriter {
  std::string text;
  using FileWriter::write;
  void write(ByteView data) override { text.append(data.begin(), data.end()); }
};

// What is checked is exactly what is signed: a catalog that is not the one the client named
// is refused before the token sees anything.
void require_requested_hash(const catalog::Tuple& tuple, const Bytes& digest, const Request& request) {
  if (digest == request.sha256) return;
  throw RequestError(ReplyCode::hash_mismatch, "catalog " + tuple.str() + " has sha256 " + to_hex(digest) +
                                                   ", not the one requested: nothing was signed; recompute "
                                                   "the hash of the catalog you mean to publish");
}

}  // namespace

SigningService::SigningService(const Config& config, KeyHolder& catalog_key, AuditLog& audit)
    : config_(config), key_(catalog_key), audit_(audit), root_(config.catalogs.root) {
  if (!config.packages.root.empty()) packages_root_ = std::make_unique<catalog::Root>(config.packages.root, "package");
  if (config.catalogs.require_package_signatures) {
    if (config.catalogs.package_keyring.empty())
      throw Error(Errc::usage, "[catalogs] require_package_signatures = true needs package_keyring = \"file\"");
    try {
      keyring_ = catalog::read_package_keyring(read_file(config.catalogs.package_keyring, 16 << 20));
    } catch (const Error& e) {
      throw Error(Errc::usage, "package keyring " + config.catalogs.package_keyring.string() + ": " + e.what());
    }
    if (keyring_.empty())
      throw Error(Errc::usage, "package keyring " + config.catalogs.package_keyring.string() + " holds no certificate");
  }
}

void SigningService::set_last_error(const std::string& e) {
  std::lock_guard lock(last_error_mutex_);
  last_error_ = e;
}

std::string SigningService::refuse(const RequestError& e, nlohmann::json& record) {
  record["result"] = "refused";
  record["code"] = reply_code_name(e.reply_code());
  record["message"] = e.what();
  set_last_error(std::string(reply_code_name(e.reply_code())) + ": " + e.what());
  return err_reply(e.reply_code(), e.what());
}

std::string SigningService::finish(nlohmann::json& record, std::string reply, const std::string& what,
                                  const Peer& peer) {
  // The record is on disk before the client hears anything; if it can't be written, the
  // signature is withheld.
  try {
    audit_.append(record);
  } catch (const std::exception& e) {
    spdlog::error("audit log write failed, signature withheld: {}", e.what());
    set_last_error(std::string("audit log: ") + e.what());
    return err_reply(ReplyCode::internal, std::string("the audit log could not be written, so nothing was released: ") + e.what());
  }
  if (record["result"] == "ok") {
    ++signatures_;
    spdlog::info("signed {} for uid {} pid {}", what, peer.uid, peer.pid);
  } else {
    spdlog::warn("refused {} for uid {} pid {}: {}", what, peer.uid, peer.pid, record.value("message", std::string()));
  }
  return reply;
}

std::string SigningService::sign(const Request& request, const Peer& peer) {
  nlohmann::json record = {{"event", "sign"}, {"peer", peer_json(peer)}, {"tuple", request.target},
                           {"requested_sha256", to_hex(request.sha256)},
                           {"form", request.form == SignatureForm::clearsign ? "clearsign"
                                    : request.armor                          ? "armored"
                                                                             : "binary"}};
  std::string reply;
  try {
    reply = sign_catalog(request, peer, record);
  } catch (const RequestError& e) {
    reply = refuse(e, record);
  } catch (const std::exception& e) {
    reply = refuse(RequestError(ReplyCode::internal, std::string("signing failed: ") + e.what()), record);
  }
  return finish(record, std::move(reply), "SIGN " + request.target, peer);
}

std::string SigningService::sign_package(const Request& request, const Peer& peer) {
  nlohmann::json record = {{"event", "signpkg"}, {"peer", peer_json(peer)}, {"path", request.target},
                           {"requested_sha256", to_hex(request.sha256)}};
  std::string reply;
  try {
    reply = sign_package_file(request, record);
  } catch (const RequestError& e) {
    reply = refuse(e, record);
  } catch (const std::exception& e) {
    reply = refuse(RequestError(ReplyCode::internal, std::string("signing failed: ") + e.what()), record);
  }
  return finish(record, std::move(reply), "SIGNPKG " + request.target, peer);
}

std::string SigningService::handle(const Request& request, const Peer& peer) {
  if (request.kind == Request::Kind::sign) return sign(request, peer);
  if (request.kind == Request::Kind::signpkg) return sign_package(request, peer);
  return err_reply(ReplyCode::bad_request, "only SIGN and SIGNPKG are accepted here");
}

std::string SigningService::sign_package_file(const Request& request, nlohmann::json& record) {
  if (!packages_root_ || config_.packages.key.empty() || !key_.has_key(config_.packages.key))
    throw RequestError(ReplyCode::denied, "package signing is not configured: set [packages] root and key");
  const std::string& path = request.target;
  bool suffix_ok = false;
  for (const std::string& suffix : config_.packages.suffixes)
    if (path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
      suffix_ok = true;
  if (!suffix_ok) throw RequestError(ReplyCode::unknown_catalog, "'" + path.substr(0, 80) + "' does not end in a configured package suffix");
  catalog::OpenedFile file;
  try {
    file = catalog::open_beneath(*packages_root_, path, kMaxPackageSize);
  } catch (const Error& e) {
    throw RequestError(e.code() == Errc::malformed ? ReplyCode::bad_request : ReplyCode::unknown_catalog, e.what());
  }
  LockState state = key_.state();
  if (!state.unlocked && !key_.expire_if_due(Clock::now()))
    throw RequestError(ReplyCode::locked, describe_locked(state, Clock::now()));
  openpgp::SignOptions options;
  openpgp::DocumentHasher hasher(options.hash, openpgp::SignatureType::binary);
  read_fd_chunks(file.fd.get(), path, [&](ByteView chunk) { hasher.update(chunk); });
  Bytes digest = hasher.data_digest();
  record["file_sha256"] = to_hex(digest);
  if (digest != request.sha256)
    throw RequestError(ReplyCode::hash_mismatch, "package " + path + " has sha256 " + to_hex(digest) +
                                                     ", not the one requested: nothing was signed");
  Bytes packet = key_.sign(std::move(hasher), options, config_.packages.key).packet();
  std::string payload = request.armor ? openpgp::armor(openpgp::ArmorKind::signature, packet)
                                      : std::string(packet.begin(), packet.end());
  record["result"] = "ok";
  record["key"] = openpgp::format_fingerprint(key_.fingerprint(config_.packages.key));
  record["signature_sha256"] = sha256_hex(payload);
  return ok_reply(payload);
}

void SigningService::check_gate(const std::string& catalog_text, const std::string& tuple, nlohmann::json& record) {
  catalog::OpenCswCatalog parsed;
  try {
    parsed = catalog::parse_opencsw_catalog(catalog_text);
  } catch (const Error& e) {
    throw RequestError(ReplyCode::packages_unsigned, std::string("the catalog does not parse, so its packages can't be checked: ") + e.what());
  }
  catalog::GateReport report = catalog::check_packages(parsed, root_, tuple, keyring_);
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
  throw RequestError(ReplyCode::packages_unsigned, report.summary());
}

std::string SigningService::sign_catalog(const Request& request, const Peer&, nlohmann::json& record) {
  catalog::Tuple tuple;
  try {
    tuple = catalog::parse_tuple(request.target, config_.catalogs);
  } catch (const Error& e) {
    throw RequestError(e.code() == Errc::malformed ? ReplyCode::bad_request : ReplyCode::unknown_catalog, e.what());
  }
  catalog::OpenedFile file;
  try {
    file = catalog::open_beneath(root_, tuple.catalog_path(), config_.catalogs.max_size);
  } catch (const Error& e) {
    throw RequestError(ReplyCode::unknown_catalog, e.what());
  }
  // Locked? Say so before reading a large file for nothing.
  LockState state = key_.state();
  if (!state.unlocked && !key_.expire_if_due(Clock::now()))
    throw RequestError(ReplyCode::locked, describe_locked(state, Clock::now()));

  openpgp::SignOptions options;
  options.notations.push_back({openpgp::kCatalogNotation, tuple.str(), true});
  std::string file_sha256;
  std::string payload;
  const std::string name = tuple.catalog_path();
  // With the gate on, the catalog's text is kept from the same single read for the check.
  const bool gate = config_.catalogs.require_package_signatures;
  std::string text;
  if (request.form == SignatureForm::detached) {
    // One hash serves both: the file's SHA-256 is the signature hash's state before the
    // trailer (DESIGN.md §3 step 4), so the bytes checked are exactly the bytes signed.
    openpgp::DocumentHasher hasher(options.hash, openpgp::SignatureType::binary);
    read_fd_chunks(file.fd.get(), name, [&](ByteView chunk) {
      hasher.update(chunk);
      if (gate) text.append(chunk.begin(), chunk.end());
    });
    Bytes digest = hasher.data_digest();
    file_sha256 = to_hex(digest);
    record["file_sha256"] = file_sha256;
    require_requested_hash(tuple, digest, request);
    if (gate) check_gate(text, tuple.str(), record);
    Bytes packet = key_.sign(std::move(hasher), options).packet();
    payload = request.armor ? openpgp::armor(openpgp::ArmorKind::signature, packet)
                            : std::string(packet.begin(), packet.end());
  } else {
    auto sha = Botan::HashFunction::create_or_throw("SHA-256");
    StringWriter out;
    openpgp::CleartextWriter writer(out, options.hash);
    read_fd_chunks(file.fd.get(), name, [&](ByteView chunk) {
      sha->update(chunk.data(), chunk.size());
      writer.update(chunk);
      if (gate) text.append(chunk.begin(), chunk.end());
    });
    Bytes digest = sha->final_stdvec();
    file_sha256 = to_hex(digest);
    record["file_sha256"] = file_sha256;
    require_requested_hash(tuple, digest, request);
    if (gate) check_gate(text, tuple.str(), record);
    openpgp::Signature sig = key_.sign(writer.finish_text(), options);
    writer.write_signature(sig);
    payload = std::move(out.text);
  }
  record["result"] = "ok";
  record["key"] = openpgp::format_fingerprint(key_.fingerprint());
  record["signature_sha256"] = sha256_hex(payload);
  return ok_reply(payload);
}

std::string SigningService::status() const {
  LockState s = key_.state();
  auto now = Clock::now();
  long long left = s.unlocked ? std::chrono::duration_cast<std::chrono::seconds>(s.expires - now).count() : 0;
  if (left < 0) left = 0;
  nlohmann::json j = {
      {"state", s.unlocked ? "unlocked" : "locked"},
      {"expires_in_s", left},
      {"locked_reason", s.unlocked ? "" : s.locked_reason},
      {"since", std::chrono::duration_cast<std::chrono::seconds>(s.since.time_since_epoch()).count()},
      {"key_fingerprint", openpgp::format_fingerprint(key_.fingerprint())},
      {"token_present", s.unlocked},
      {"signatures", signatures_.load()},
      {"sessions", config_.token.sessions},
  };
  {
    std::lock_guard lock(last_error_mutex_);
    j["last_error"] = last_error_;
  }
  return j.dump();
}

std::string SigningService::unlock(const SecureString& pin, const Peer& peer) {
  nlohmann::json record = {{"event", "unlock"}, {"peer", peer_json(peer)}};
  std::string reply;
  try {
    key_.unlock(pin, config_.daemon.unlock_window);
    record["result"] = "ok";
    record["window_s"] = config_.daemon.unlock_window.count();
    record["key"] = openpgp::format_fingerprint(key_.fingerprint());
    reply = ok_reply("unlocked for " + format_duration(config_.daemon.unlock_window) + "\n");
    spdlog::info("unlocked by uid {} for {}", peer.uid, format_duration(config_.daemon.unlock_window));
  } catch (const RequestError& e) {
    reply = refuse(e, record);
    spdlog::warn("unlock by uid {} refused: {}", peer.uid, e.what());
  } catch (const std::exception& e) {
    reply = refuse(RequestError(ReplyCode::token_error, e.what()), record);
    spdlog::warn("unlock by uid {} failed: {}", peer.uid, e.what());
  }
  try {
    audit_.append(record);
  } catch (const std::exception& e) {
    // An unlock nobody can audit is not kept.
    key_.lock("audit log write failed");
    return err_reply(ReplyCode::internal, std::string("the audit log could not be written; locked again: ") + e.what());
  }
  return reply;
}

std::string SigningService::lock(const std::string& reason, const Peer& peer) {
  std::string why = reason.empty() ? "locked by uid " + std::to_string(peer.uid) : reason;
  bool was_unlocked = key_.lock(why);
  spdlog::info("lock by uid {}: {}", peer.uid, why);
  try {
    audit_.append({{"event", "lock"}, {"peer", peer_json(peer)}, {"reason", why}, {"was_unlocked", was_unlocked},
                   {"result", "ok"}});
  } catch (const std::exception& e) {
    spdlog::error("audit log write failed for lock: {}", e.what());
  }
  return ok_reply(was_unlocked ? "locked\n" : "already locked\n");
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

void SigningService::audit_refusal(const Peer& peer, const RequestError& e, const std::string& request) {
  nlohmann::json record = {{"event", "refuse"}, {"peer", peer_json(peer)}, {"request", request.substr(0, 200)}};
  refuse(e, record);
  try {
    audit_.append(record);
  } catch (const std::exception& ex) {
    spdlog::error("audit log write failed for a refusal: {}", ex.what());
  }
}

}  // namespace catsign::daemon
