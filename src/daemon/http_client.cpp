// SPDX-License-Identifier: Apache-2.0
#include "catsign/daemon/http_client.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>


namespace catsign::daemon {

namespace {

// A cleartext reply carries the whole catalog.
constexpr std::size_t kMaxReply = std::size_t{1} << 30;

struct Body {
  std::string text;
  bool too_long = false;
};

size_t on_data(char* data, size_t, size_t n, void* cls) {
  auto* body = static_cast<Body*>(cls);
  if (body->text.size() + n > kMaxReply) {
    body->too_long = true;
    return 0;
  }
  body->text.append(data, n);
  return n;
}

std::string escaped_path(CURL* curl, const std::string& target) {
  std::string out;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = target.find('/', start);
    std::string segment = target.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    std::unique_ptr<char, void (*)(void*)> e(curl_easy_escape(curl, segment.c_str(), static_cast<int>(segment.size())),
                                             curl_free);
    out += '/';  // appended apart: `"/" + temporary` sets off GCC 12's -Wrestrict at -O3
    if (e) out += e.get();
    if (slash == std::string::npos) return out;
    start = slash + 1;
  }
}

}  // namespace

std::string http_request(const HttpClientOptions& o, const Request& request) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw Error(Errc::internal, "libcurl could not start a transfer");
  std::string base = o.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  // Appended piece by piece: GCC 12 at -O3 takes `string&& + string&&` for an overlapping memcpy.
  std::string url = base;
  url += request.kind == Request::Kind::signpkg ? "/v1/signpkg" : "/v1/sign";
  url += escaped_path(curl.get(), request.target);
  url += "?sha256=";
  url += to_hex(request.sha256);
  if (request.form == signing::Form::cleartext) url += "&mode=clearsign";
  if (request.form == signing::Form::detached_binary) url += "&armor=no";
  Body body;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(o.timeout.count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  if (!o.cacert.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, o.cacert.c_str());
  if (!o.cert.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, o.cert.c_str());
  if (!o.key.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, o.key.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(
      curl_slist_append(nullptr, "Accept: application/json"), curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);

  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    std::string why = error[0] ? error : curl_easy_strerror(rc);
    if (rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_URL_MALFORMAT ||
        rc == CURLE_UNSUPPORTED_PROTOCOL)
      throw Error(Errc::usage, why + ": check --url, --cacert, --cert and --key");
    if (body.too_long) throw Error(Errc::malformed, "catsignd's reply is larger than 1 GiB");
    throw Error(Errc::unreachable, "cannot reach catsignd at " + base + ": " + why);
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status == 200) return std::move(body.text);
  // A refusal names its reply code; the same table maps it to the same exit code as the socket.
  std::string message = body.text.substr(0, 600);
  std::optional<Errc> code;
  try {
    nlohmann::json j = nlohmann::json::parse(body.text);
    code = errc_from_reply(j.at("code").get<std::string>());
    message = j.at("message").get<std::string>();
  } catch (const std::exception&) {
  }
  if (!code)
    for (const ErrcInfo& row : error_table())
      if (row.http_status == status) {
        code = row.code;
        break;
      }
  if (!code) code = Errc::internal;
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  for (char& ch : message)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) == 0x7f) ch = ' ';
  throw Error(*code, "catsignd: " + message);
}

}  // namespace catsign::daemon
