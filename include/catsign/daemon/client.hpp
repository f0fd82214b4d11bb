// SPDX-License-Identifier: Apache-2.0
// The client side of catsignd's sockets, for catsign unlock, lock, status and request.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "catsign/daemon/protocol.hpp"
#include "catsign/util/file.hpp"
#include "catsign/util/secure_string.hpp"

namespace catsign::daemon {

class Client {
 public:
  // Error(unreachable) naming the socket and the likely cause when nobody listens there.
  Client(const std::filesystem::path& socket, std::chrono::seconds timeout);

  // Sends `request` (and for UNLOCK the PIN line, wiped afterwards) and returns the OK
  // payload. An ERR reply throws Error with the Errc its reply code names.
  std::string call(const std::string& request);
  std::string unlock(const SecureString& pin);

 private:
  std::string read_reply();
  std::filesystem::path socket_;
  std::chrono::seconds timeout_;
  UniqueFd fd_;
};

}  // namespace catsign::daemon
