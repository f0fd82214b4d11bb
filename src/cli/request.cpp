// SPDX-License-Identifier: Apache-2.0
// catsign request: what push automation runs. Asks catsignd for a catalog signature and
// writes it atomically; the exit code tells "locked, call a person" (3) from "hash mismatch"
// (4) from "refused" (5) from "daemon unreachable" (6).
#include <cstdio>

#include "catsign/cli/command.hpp"
#include "catsign/daemon/client.hpp"
#include "catsign/daemon/http_client.hpp"
#include "catsign/error.hpp"

namespace catsign::cli {

namespace {

struct RequestOptions {
  std::string socket = "/run/catsign/sign.sock";
  std::string url;  // set: the HTTPS front instead of the socket
  std::string cacert, cert, key;
  std::string tuple;
  std::string sha256;
  bool clearsign = false;
  bool binary = false;
  std::string output;
  unsigned timeout = 300;
};

int run_request(const RequestOptions& o) {
  if (o.clearsign && o.binary) throw Error(Errc::usage, "--clearsign and --binary exclude each other");
  daemon::Request r;
  r.kind = daemon::Request::Kind::sign;
  r.target = o.tuple;
  try {
    r.sha256 = from_hex(o.sha256);
  } catch (const Error&) {
  }
  if (r.sha256.size() != 32 || o.sha256.size() != 64)
    throw Error(Errc::usage, "--sha256 needs the catalog's SHA-256 as 64 hex digits (sha256sum prints it)");
  r.form = o.clearsign ? signing::Form::cleartext : o.binary ? signing::Form::detached_binary : signing::Form::detached_armored;
  if (o.url.empty() && (!o.cacert.empty() || !o.cert.empty() || !o.key.empty()))
    throw Error(Errc::usage, "--cacert, --cert and --key go with --url https://host:9981");
  if (o.cert.empty() != o.key.empty()) throw Error(Errc::usage, "--cert and --key go together");
  std::string signature;
  if (!o.url.empty()) {
    signature = daemon::http_request({o.url, o.cacert, o.cert, o.key, std::chrono::seconds(o.timeout)}, r);
  } else {
    daemon::Client client(o.socket, std::chrono::seconds(o.timeout));
    signature = client.call(daemon::format_request(r));
  }
  write_file_atomically(o.output, as_bytes(signature), 0644);
  std::printf("signed %s -> %s\n", o.tuple.c_str(), o.output.c_str());
  return 0;
}

}  // namespace

void register_request(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<RequestOptions>();
  CLI::App* cmd = app.add_subcommand(
      "request",
      "Ask catsignd to sign a configured catalog whose SHA-256 you know; the signature is written atomically to "
      "--output. Exit 3: locked (call a person), 4: hash mismatch, 5: refused, 6: daemon unreachable.");
  CLI::Option* socket = cmd->add_option("--socket", o->socket, "catsignd's sign socket")->capture_default_str();
  cmd->add_option("--url", o->url, "catsignd's HTTPS front instead of the socket, e.g. https://signer:9981")
      ->excludes(socket);
  cmd->add_option("--cacert", o->cacert, "CA certificate (PEM) that issued the front's server certificate");
  cmd->add_option("--cert", o->cert, "client certificate (PEM), when the front asks for one");
  cmd->add_option("--key", o->key, "the client certificate's private key (PEM)");
  cmd->add_option("TUPLE", o->tuple,
                  "the catalog as release/arch/osrel, e.g. unstable/i386/5.10, or a repository's index as "
                  "NAME:value/..., e.g. debian:bookworm")
      ->required();
  cmd->add_option("--sha256", o->sha256, "SHA-256 of the catalog you expect to be signed")->required();
  cmd->add_flag("--clearsign", o->clearsign, "ask for a cleartext-signed catalog (what pkgutil reads)");
  cmd->add_flag("--binary", o->binary, "ask for a binary detached signature instead of an armored one");
  cmd->add_option("--output,-o", o->output, "where to write the signature")->required();
  cmd->add_option("--timeout", o->timeout, "seconds to wait for the daemon")->capture_default_str();
  cmd->callback([o, &ctx] { ctx.exit_code = run_request(*o); });
}

}  // namespace catsign::cli
