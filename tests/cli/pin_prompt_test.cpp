// The pinentry path: a stand-in pinentry speaks the Assuan subset real ones do.
#include "catsign/cli/pin_prompt.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "../daemon/daemon_fixture.hpp"
#include "../support/process.hpp"
#include "catsign/error.hpp"

namespace catsign::testing {
namespace {

// A pinentry that answers GETPIN with `data` (already Assuan-escaped), or ERR when empty.
std::filesystem::path fake_pinentry(const TempDir& dir, const std::string& data) {
  auto path = dir / "pinentry";
  write_text(path, "#!/bin/sh\necho 'OK Pleased to meet you'\n"
                   "while read -r cmd rest; do\n"
                   "  case $cmd in\n"
                   "    GETPIN) " + (data.empty() ? std::string("echo 'ERR 83886179 Operation cancelled'") :
                                                     "echo 'D " + data + "'; echo OK") + " ;;\n"
                   "    BYE) echo OK; exit 0 ;;\n"
                   "    *) echo OK ;;\n"
                   "  esac\n"
                   "done\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(PinPrompt, PinentryAnswerIsUnescaped) {
  TempDir d;
  SecureString pin = cli::read_pin_with_pinentry(fake_pinentry(d, "12%2534 5").string(), "PIN for token 'catsign'");
  EXPECT_EQ(pin.view(), "12%34 5");
}

TEST(PinPrompt, CancelledOrMissingPinentryIsAClearError) {
  TempDir d;
  try {
    cli::read_pin_with_pinentry(fake_pinentry(d, "").string(), "x");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cancelled"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cli::read_pin_with_pinentry("/nonexistent/pinentry", "x"), Error);
}

TEST(PinPrompt, UnlockThroughPinentry) {
  DaemonFixture daemon;
  TempDir d;
  std::string text = read_text(daemon.config());
  text.replace(text.find("[token]\n"), 8,
               "[token]\npinentry = \"" + fake_pinentry(d, DaemonFixture::kPin).string() + "\"\n");
  write_text(d / "catsign.toml", text);
  // The config's relative paths are resolved from its folder: point it at the daemon's.
  std::filesystem::copy_file(d / "catsign.toml", daemon.dir() / "pinentry.toml");
  RunResult r = daemon.catsign({"unlock", "--config", (daemon.dir() / "pinentry.toml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(daemon.sign("unstable/i386/5.10").code, "OK");
}

}  // namespace
}  // namespace catsign::testing
