# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Source it; do not run it.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sets CATSIGN_ROOT (the repository root, absolute) and defines the package list, logging,
# and the helpers the scripts have in common.

CATSIGN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CATSIGN_PROG=$(basename "$0")

# Everything a build, the test suite or the demo needs on Debian 12. The tests that use
# SoftHSM, gpg, sqv or sq rely on this list: they never skip because a tool is missing.
CATSIGN_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libp11-dev libssl-dev libbotan-2-dev libspdlog-dev
  libgtest-dev libgmock-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libp11-kit-dev libsystemd-dev libexpat1-dev libassuan-dev
  libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev
  softhsm2 opensc gnupg sqv sq time systemd logrotate pinentry-tty python3-prometheus-client curl openssl
  # p11-kit's proxy module and apt-get, for the tests through the proxy and of key rotation.
  p11-kit-modules apt
  # The package managers the repository tests build repositories for and run against them.
  apt-utils dpkg-dev rpm createrepo-c dnf pacman-package-manager makepkg libarchive-tools fakeroot
  # A software TPM with tpm2-pkcs11 on it, for the token tests on a second PKCS#11 module
  # (tests/support/start-tpm-token): the TPM, its resource manager on a private D-Bus, the TCTIs.
  swtpm tpm2-abrmd dbus-daemon libtss2-tcti-swtpm0 libtss2-tcti-tabrmd0 libtpm2-pkcs11-1
  # libFuzzer and clang's sanitizer runtimes, for scripts/fuzz (clang-14 only recommends them).
  clang libclang-rt-14-dev
  # The man pages (scdoc), the package build and its checks (scripts/package, scripts/test-package).
  scdoc debhelper lintian man-db bash-completion
)

# step MESSAGE: a progress line on stdout.
step() { printf '==> %s\n' "$*"; }

# warn MESSAGE: one line on stderr, prefixed with the script's name.
warn() { printf '%s: %s\n' "$CATSIGN_PROG" "$*" >&2; }

# die MESSAGE [STATUS]: say what went wrong (and what to do) on one line, then exit.
die() { warn "$1"; exit "${2:-1}"; }

# as_root COMMAND...: run a command as root, through sudo when we are not root already.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run '$*', and sudo is not installed: run this script as root"
  fi
}

# package_installed NAME: true when dpkg reports the package fully installed.
package_installed() {
  # One line per installed architecture; any fully installed one will do.
  dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null | grep -x installed >/dev/null
}

# missing_packages: print the packages of CATSIGN_PACKAGES that are not installed, one a line.
missing_packages() {
  local p
  for p in "${CATSIGN_PACKAGES[@]}"; do
    package_installed "$p" || printf '%s\n' "$p"
  done
}

# build_dir [DIR]: the absolute build folder; DIR, else $CATSIGN_BUILD_DIR, else build/.
# A relative DIR is taken from the repository root, so the scripts work from any folder.
build_dir() {
  local dir=${1:-${CATSIGN_BUILD_DIR:-build}}
  [[ $dir == /* ]] || dir="$CATSIGN_ROOT/$dir"
  printf '%s\n' "$dir"
}

# ensure_home: gpg and friends need HOME; CI runners sometimes start without it.
ensure_home() {
  if [[ -z ${HOME:-} ]]; then
    HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
    [[ -n $HOME ]] || HOME=/root
    export HOME
  fi
}
