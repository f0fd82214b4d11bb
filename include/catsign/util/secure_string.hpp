// SPDX-License-Identifier: Apache-2.0
// A string for secrets (PINs): wiped on destruction and on clear, never copied implicitly.
#pragma once

#include <string>
#include <string_view>

namespace catsign {

// Overwrites memory in a way the compiler may not optimise away.
void secure_wipe(void* data, std::size_t size) noexcept;

class SecureString {
 public:
  SecureString() { buffer_.reserve(kCapacity); }
  ~SecureString() { clear(); }
  SecureString(const SecureString&) = delete;
  SecureString& operator=(const SecureString&) = delete;
  SecureString(SecureString&& other) noexcept;
  SecureString& operator=(SecureString&& other) noexcept;

  // Appends without reallocating while the secret stays under kCapacity, so no stale copy is
  // left behind in freed memory.
  void push_back(char c);
  void clear() noexcept;
  bool empty() const noexcept { return buffer_.empty(); }
  std::size_t size() const noexcept { return buffer_.size(); }
  const char* c_str() const noexcept { return buffer_.c_str(); }
  std::string_view view() const noexcept { return buffer_; }

  static constexpr std::size_t kCapacity = 256;

 private:
  std::string buffer_;
};

}  // namespace catsign
