// SPDX-License-Identifier: Apache-2.0
// Repository request names ("debian:bookworm", "el:el9/x86_64"), as a SIGN request names them.
#include "catsign/repository/target.hpp"
#include "fuzz.hpp"

using namespace catsign;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Config config = parse_config(R"(
[keys.catalog]
uri = "pkcs11:object=catalog"
certificate = "catalog.asc"
[repositories.debian]
root = "/srv/apt"
path = "dists/{suite}/Release"
suite = ["bookworm", "trixie", "bookworm-backports"]
[repositories.el]
root = "/srv/rpm"
path = "{release}/{arch}/repodata/repomd.xml"
release = ["el8", "el9"]
arch = ["x86_64", "aarch64"]
[repositories.arch]
root = "/srv/pacman"
path = "{repo}/os/{arch}/{repo}.db"
repo = ["core", "extra"]
arch = ["x86_64"]
)", "/etc/catsign/catsign.toml");
  fuzz::expect_only_error([&] {
    repository::Target t = repository::parse_target(fuzz::as_text(data, size), config);
    if (t.name != fuzz::as_text(data, size)) fuzz::broken("a parsed target is not its own text");
    if (t.path.find("..") != std::string::npos || t.path.front() == '/') fuzz::broken("a target path that is not plain");
  });
  return 0;
}
