// SPDX-License-Identifier: Apache-2.0
// What the signing service answers, as a value: done (the bytes to hand back, and the facts
// of the signature when one was made) or refused (a domain error and its one-line message).
// The socket server, the spool and the HTTPS front each render it in their own terms; none
// of them parses another's rendering.
#pragma once

#include <optional>
#include <string>

#include "catsign/error.hpp"
#include "catsign/signing/pipeline.hpp"

namespace catsign::daemon {

struct Outcome {
  std::optional<Errc> refusal;          // set: refused
  std::string message;                  // refused: one line for the operator
  std::string payload;                  // done: a signature, a status object, a confirmation
  std::optional<signing::Facts> facts;  // done with a signature

  bool ok() const noexcept { return !refusal; }

  static Outcome done(std::string payload, std::optional<signing::Facts> facts = std::nullopt) {
    Outcome o;
    o.payload = std::move(payload);
    o.facts = std::move(facts);
    return o;
  }
  static Outcome refused(Errc code, std::string message) {
    Outcome o;
    o.refusal = code;
    o.message = std::move(message);
    return o;
  }
  static Outcome refused(const Error& e) { return refused(e.code(), e.what()); }
};

// The socket protocol's rendering: "OK <n>\n<payload>" or "ERR <CODE> <message>\n".
std::string render_reply(const Outcome& outcome);

}  // namespace catsign::daemon
