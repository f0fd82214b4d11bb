// SPDX-License-Identifier: Apache-2.0
// What the token keeps of a key beyond its PKCS#11 objects: when the key was made, and how long
// after that its certificate says it expires. A v4 fingerprint hashes the creation time to the
// second (RFC 4880 §12.2), and CKA_START_DATE holds a day only (a CK_DATE, PKCS#11 v2.40 §4.4),
// so the record is a data object (CKO_DATA, §4.5) beside the key: CKA_APPLICATION "catsign",
// CKA_LABEL the key's label, CKA_VALUE the text below. It is private (read after login) and
// ties itself to the key by CKA_ID, so a key relabelled or replaced is never matched to an old
// record. With it the certificate can be rebuilt from the token alone (`catsign export`).
#pragma once

#include <p11-kit/pkcs11.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "catsign/util/bytes.hpp"

namespace catsign::token {

class Pkcs11Session;

inline constexpr const char* kKeyRecordApplication = "catsign";

struct KeyRecord {
  Bytes id;                     // the key's CKA_ID
  std::uint32_t created = 0;    // seconds since the epoch: the OpenPGP key creation time
  std::uint32_t expiration = 0; // seconds after creation (the key expiration subpacket); 0 never
  bool operator==(const KeyRecord&) const = default;
};

// "catsign-key 1\nid=<hex>\ncreated=<seconds>\nexpiration=<seconds>\n"
std::string encode_key_record(const KeyRecord& record);
// Error(malformed) saying what is wrong for anything but exactly that form.
KeyRecord parse_key_record(std::string_view text);

// The record of the key labelled `label` with CKA_ID `id`, or nullopt when there is none (a key
// made by another tool, or before catsign kept records). Error(malformed) for a record that is
// there but unreadable; Error(usage) when two records claim the key.
std::optional<KeyRecord> read_key_record(Pkcs11Session& session, const std::string& label, ByteView id);

// Creates the record, or replaces the value of the one there. `session` must be read-write
// and logged in. Returns the handle of the record object.
CK_OBJECT_HANDLE write_key_record(Pkcs11Session& session, const std::string& label, const KeyRecord& record);

// Destroys the records of the key labelled `label` with CKA_ID `id` (a data object has no
// CKA_ID of its own: the id is in its value). Returns how many; records of other keys, and
// data objects that are not records, are left alone. `session` must be read-write.
std::size_t destroy_key_records(Pkcs11Session& session, const std::string& label, ByteView id);

}  // namespace catsign::token
