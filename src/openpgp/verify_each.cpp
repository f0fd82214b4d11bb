// SPDX-License-Identifier: Apache-2.0
#include "catsign/openpgp/verify_each.hpp"

#include <algorithm>

#include "catsign/error.hpp"
#include "catsign/openpgp/armor.hpp"
#include "catsign/openpgp/cleartext.hpp"
#include "catsign/openpgp/packet.hpp"

namespace catsign::openpgp {

namespace {

bool names(const Certificate& cert, const Signature& sig) {
  if (auto fp = sig.issuer_fingerprint()) return *fp == cert.fingerprint;
  if (auto id = sig.issuer_key_id()) return *id == cert.key.key_id();
  return false;
}

std::string issuer_of(const Signature& sig) {
  if (auto fp = sig.issuer_fingerprint()) return format_fingerprint(*fp);
  if (auto id = sig.issuer_key_id()) return "key ID " + format_key_id(*id);
  return "no issuer named";
}

std::vector<SignatureReport> judge(std::span<const Certificate> certs, std::span<const Signature> signatures,
                                   const std::function<std::optional<std::string>(const Signature&)>& precheck,
                                   const std::function<void(DocumentHasher&)>& feed) {
  std::vector<SignatureReport> out;
  for (const Signature& sig : signatures) {
    SignatureReport r;
    r.issuer = issuer_of(sig);
    auto cert = std::find_if(certs.begin(), certs.end(), [&](const Certificate& c) { return names(c, sig); });
    if (cert != certs.end()) {
      r.cert = &*cert;
      if (std::optional<std::string> why = precheck(sig)) {
        r.verdict = Verdict::bad;
        r.reason = *why;
      } else {
        try {
          r.verified = verify_document(*cert, sig, feed);
          r.verdict = Verdict::good;
        } catch (const Error& e) {
          if (e.code() != Errc::bad_signature) throw;
          r.verdict = Verdict::bad;
          r.reason = e.what();
        }
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

const char* verdict_name(Verdict v) noexcept {
  switch (v) {
    case Verdict::good: return "good";
    case Verdict::bad: return "bad";
    case Verdict::unknown: return "unknown";
  }
  return "unknown";
}

std::vector<Signature> read_document_signatures(ByteView signature_data) {
  if (signature_data.empty()) throw Error(Errc::malformed, "signature: the input is empty");
  const Bytes binary = dearmor_if_needed(signature_data, ArmorKind::signature);
  const std::vector<Packet> packets = parse_packets(binary);
  if (packets.empty()) throw Error(Errc::malformed, "signature: no signature packet");
  if (packets.size() > kMaxSignatures)
    throw Error(Errc::malformed, "signature: " + std::to_string(packets.size()) + " packets, more than the " +
                                     std::to_string(kMaxSignatures) + " signatures a file may carry");
  std::vector<Signature> out;
  for (const Packet& p : packets) {
    // Each packet on its own is what a one-signature file must be.
    if (p.tag != static_cast<std::uint8_t>(PacketTag::signature)) {
      throw Error(Errc::malformed, "signature: packet " + std::to_string(out.size() + 1) +
                                       " is not a signature packet (tag " + std::to_string(p.tag) + ")");
    }
    Signature sig = parse_signature(p.body);
    if (sig.type != SignatureType::binary && sig.type != SignatureType::text)
      throw Error(Errc::malformed, "signature: packet " + std::to_string(out.size() + 1) +
                                       " is not a document signature");
    out.push_back(std::move(sig));
  }
  return out;
}

std::vector<SignatureReport> verify_each(std::span<const Certificate> certs, std::span<const Signature> signatures,
                                         const std::function<void(DocumentHasher&)>& feed) {
  return judge(certs, signatures, [](const Signature&) { return std::optional<std::string>(); }, feed);
}

std::vector<SignatureReport> verify_cleartext_each(std::span<const Certificate> certs, std::string_view message) {
  CleartextMessage msg = parse_cleartext(message);
  const std::vector<Signature> signatures = read_document_signatures(msg.signature);
  auto precheck = [&](const Signature& sig) -> std::optional<std::string> {
    if (sig.type != SignatureType::text) return "BAD signature: a cleartext signature must be a text (0x01) signature";
    if (std::find(msg.hashes.begin(), msg.hashes.end(), sig.hash) == msg.hashes.end())
      return std::string("BAD signature: the Hash: header does not name ") + hash_name(sig.hash) +
             ", the hash the signature uses";
    return std::nullopt;
  };
  return judge(certs, signatures, precheck, [&](DocumentHasher& h) { hash_cleartext_text(h, msg.text); });
}

}  // namespace catsign::openpgp
