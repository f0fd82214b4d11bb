// SPDX-License-Identifier: Apache-2.0
// The socket protocol: one request line, as the sign and admin sockets (and the spool, which
// hands each request file's line to the same parser) see it.
#include "catsign/daemon/protocol.hpp"
#include "fuzz.hpp"

using namespace catsign;
using namespace catsign::daemon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view line = fuzz::as_text(data, size);
  fuzz::expect_only_error([&] {
    Request r = parse_request(line);
    // Whatever parses prints back to a line that parses to the same request.
    std::string again = format_request(r);
    if (again.empty() || again.back() != '\n') fuzz::broken("format_request without LF");
    again.pop_back();
    Request r2 = parse_request(again);
    if (r2.kind != r.kind || r2.target != r.target || r2.sha256 != r.sha256 || r2.form != r.form ||
        r2.lock_reason != r.lock_reason)
      fuzz::broken("parse_request(format_request(r)) != r");
  });
  // A refusal's message goes into an ERR reply: it must stay one line.
  try {
    parse_request(line);
  } catch (const Error& e) {
    std::string reply = err_reply(e.code(), e.what());
    if (reply.find('\n') != reply.size() - 1) fuzz::broken("ERR reply is not one line");
  }
  return 0;
}
