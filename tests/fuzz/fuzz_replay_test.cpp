// SPDX-License-Identifier: Apache-2.0
// Replays, through each fuzz target's own entry point (fuzz/*.cpp, compiled in with a new
// name), its seed corpus (fuzz/corpus/<target>/) and every input a fuzzer once crashed on
// (tests/data/fuzz/<target>/, one file per bug, named after it). A target catches only
// catsign::Error: anything else thrown, a broken round trip or a sanitizer report ends the
// test binary, which fails the test. New crashes from scripts/fuzz go in tests/data/fuzz/.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

extern "C" {
int fuzz_armor_one_input(const std::uint8_t* data, std::size_t size);
int fuzz_catalog_one_input(const std::uint8_t* data, std::size_t size);
int fuzz_certificate_one_input(const std::uint8_t* data, std::size_t size);
int fuzz_cleartext_one_input(const std::uint8_t* data, std::size_t size);
int fuzz_config_one_input(const std::uint8_t* data, std::size_t size);
int fuzz_http_route_one_input(const std::uint8_t* data, std::size_t size);
int fuzz_packets_one_input(const std::uint8_t* data, std::size_t size);
int fuzz_pkcs11_uri_one_input(const std::uint8_t* data, std::size_t size);
int fuzz_protocol_one_input(const std::uint8_t* data, std::size_t size);
int fuzz_tuple_one_input(const std::uint8_t* data, std::size_t size);
int fuzz_apt_release_one_input(const std::uint8_t* data, std::size_t size);
int fuzz_repomd_one_input(const std::uint8_t* data, std::size_t size);
int fuzz_repository_target_one_input(const std::uint8_t* data, std::size_t size);
}

namespace catsign {
namespace {

namespace fs = std::filesystem;

struct Target {
  const char* name;
  int (*one_input)(const std::uint8_t*, std::size_t);
};

const Target kTargets[] = {
    {"fuzz_armor", fuzz_armor_one_input},         {"fuzz_catalog", fuzz_catalog_one_input},
    {"fuzz_certificate", fuzz_certificate_one_input}, {"fuzz_cleartext", fuzz_cleartext_one_input},
    {"fuzz_config", fuzz_config_one_input},       {"fuzz_http_route", fuzz_http_route_one_input},
    {"fuzz_packets", fuzz_packets_one_input},
    {"fuzz_pkcs11_uri", fuzz_pkcs11_uri_one_input}, {"fuzz_protocol", fuzz_protocol_one_input},
    {"fuzz_tuple", fuzz_tuple_one_input},         {"fuzz_apt_release", fuzz_apt_release_one_input},
    {"fuzz_repomd", fuzz_repomd_one_input},       {"fuzz_repository_target", fuzz_repository_target_one_input},
};

// gtest names a parameter in its output: the target's name, not its bytes.
void PrintTo(const Target& target, std::ostream* os) { *os << target.name; }

std::vector<std::uint8_t> read_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The files of a folder, sorted so a failure names the same input every run.
std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

class FuzzReplay : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzReplay, SeedCorpusIsHandled) {
  const fs::path dir = fs::path(CATSIGN_SOURCE_DIR) / "fuzz" / "corpus" / GetParam().name;
  const auto files = files_in(dir);
  EXPECT_FALSE(files.empty()) << "no seeds in " << dir;
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    const auto data = read_file(file);
    EXPECT_EQ(GetParam().one_input(data.data(), data.size()), 0);
  }
}

TEST_P(FuzzReplay, PastCrashesStayFixed) {
  const fs::path dir = fs::path(CATSIGN_SOURCE_DIR) / "tests" / "data" / "fuzz" / GetParam().name;
  for (const auto& file : files_in(dir)) {
    SCOPED_TRACE(file.string());
    const auto data = read_file(file);
    EXPECT_EQ(GetParam().one_input(data.data(), data.size()), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<Target>& param) {
                           return std::string(param.param.name).substr(5);  // "armor"
                         });

}  // namespace
}  // namespace catsign
