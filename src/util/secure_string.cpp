// SPDX-License-Identifier: Apache-2.0
#include "catsign/util/secure_string.hpp"

#include <openssl/crypto.h>

#include <utility>

#include "catsign/error.hpp"

namespace catsign {

void secure_wipe(void* data, std::size_t size) noexcept {
  if (data != nullptr && size != 0) OPENSSL_cleanse(data, size);
}

SecureString::SecureString(SecureString&& other) noexcept {
  buffer_.reserve(kCapacity);
  buffer_.assign(other.buffer_);
  other.clear();
}

SecureString& SecureString::operator=(SecureString&& other) noexcept {
  if (this != &other) {
    clear();
    buffer_.assign(other.buffer_);
    other.clear();
  }
  return *this;
}

void SecureString::push_back(char c) {
  if (buffer_.size() + 1 >= kCapacity) throw Error(Errc::usage, "PIN is too long (at most 255 characters)");
  buffer_.push_back(c);
}

void SecureString::clear() noexcept {
  // Wipe the whole capacity, not only the live part: a shorter secret may have replaced a
  // longer one in the same buffer.
  secure_wipe(buffer_.data(), buffer_.capacity());
  buffer_.clear();
}

}  // namespace catsign
