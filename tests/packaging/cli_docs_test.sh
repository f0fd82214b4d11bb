#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# cli_docs_test.sh ASPECT CATSIGN CATSIGND VERSION SOURCE_DIR
#
# Checks that what is documented and completed is what the programs accept, so that a new
# command or option cannot ship without its man page and completion, and that --version says
# the project version. ASPECT is one of:
#   completion  packaging/bash-completion/catsign, run by bash-completion as a shell would,
#               against `catsign --help` and `catsign COMMAND --help`
#   man         man/catsign.1.scd against the same help, and man/catsign.toml.5.scd against
#               the settings src/config/config.cpp accepts
#   version     catsign --version and catsignd --version
# Prints one line per failure and exits 1 if there was any.
set -uo pipefail

aspect=$1 catsign=$2 catsignd=$3 version=$4 src=$5
failures=0
fail() {
  printf 'FAIL: %s\n' "$*"
  failures=$((failures + 1))
}

# The subcommands and options CLI11 prints in --help.
help_commands() { "$catsign" "$@" --help | sed -n '/^Subcommands:/,$s/^  \([a-z][a-z-]*\) .*/\1/p'; }
help_options() {
  "$catsign" "$@" --help | sed -n '/^Options:/,/^$/p' |
    grep -oE '^  (-[A-Za-z],)?--[a-z0-9-]+' | tr ',' '\n' | sed 's/^ *//' | grep -vx -- '-h'
}
sorted() { tr ' ' '\n' | sed '/^$/d' | sort -u; }
commands=$(help_commands)
[[ -n $commands ]] || { echo "FAIL: '$catsign --help' lists no commands"; exit 1; }

case $aspect in
completion)
  completion=/usr/share/bash-completion/bash_completion
  [[ -r $completion ]] || { echo "FAIL: $completion is missing (Debian package bash-completion)"; exit 1; }
  # shellcheck source=/dev/null
  . "$completion"
  # shellcheck disable=SC1091
  . "$src/packaging/bash-completion/catsign"
  # tab WORD...: what pressing Tab after `catsign WORD...` offers (the last WORD may be "").
  tab() {
    COMP_WORDS=(catsign "$@")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _catsign catsign "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort -u
  }
  expect() {
    local what=$1 want=$2 got=$3
    [[ $got == "$want" ]] || fail "$what: completion offers [${got//$'\n'/ }], expected [${want//$'\n'/ }]"
  }

  expect "catsign <Tab>" "$(echo "$commands" | sorted)" "$(tab "")"
  expect "catsign --<Tab>" "$(help_options | sorted)" "$(tab "--")"
  for c in $commands; do
    subs=$(help_commands "$c")
    if [[ -n $subs ]]; then
      expect "catsign $c <Tab>" "$(echo "$subs" | sorted)" "$(tab "$c" "")"
      for s in $subs; do
        expect "catsign $c $s -<Tab>" "$(help_options "$c" "$s" | sorted)" "$(tab "$c" "$s" "-")"
      done
    else
      expect "catsign $c -<Tab>" "$(help_options "$c" | sorted)" "$(tab "$c" "-")"
    fi
  done

  # Values: fixed sets, and key names and catalogs from the configuration.
  expect "catsign keygen --bits <Tab>" "$(echo 2048 3072 4096 | sorted)" "$(tab keygen --bits "")"
  expect "catsign sign --hash <Tab>" "$(echo sha256 sha384 sha512 | sorted)" "$(tab sign --hash "")"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cat >"$tmp/catsign.toml" <<'EOF'
[keys.alpha]   # a comment
uri = "pkcs11:token=t;object=a"
certificate = "a.asc"

 [keys.beta-2]
uri = "pkcs11:token=t;object=b"
certificate = "b.asc"

[catalogs]
root = "/srv/mirror"
releases = ["unstable", "kiel"]
arches = [ "sparc" ]
osrels = ["5.10","5.11"]

[packages]
releases = ["not-a-catalog-setting"]

[repositories.debian]
root = "/srv/apt"
path = "dists/{suite}/Release"
suite = ["bookworm"]
EOF
  expect "catsign sign --config F --key <Tab>" "$(echo alpha beta-2 | sorted)" \
    "$(tab sign --config "$tmp/catsign.toml" --key "")"
  expect "catsign sign --config=F --key <Tab>" "$(echo alpha beta-2 | sorted)" \
    "$(tab sign --config="$tmp/catsign.toml" --key "")"
  expect "catsign resign --config F <Tab>" \
    "$(echo unstable/sparc/5.10 unstable/sparc/5.11 kiel/sparc/5.10 kiel/sparc/5.11 | sorted)" \
    "$(tab resign --config "$tmp/catsign.toml" "")"
  expect "catsign resign --config F --repository <Tab>" "debian" \
    "$(tab resign --config "$tmp/catsign.toml" --repository "")"
  expect "catsign keygen --config EXAMPLE --key <Tab>" "$(echo catalog package | sorted)" \
    "$(tab keygen --config "$src/packaging/catsign.toml.example" --key "")"
  expect "catsign sign --config MISSING --key <Tab>" "" "$(tab sign --config "$tmp/none.toml" --key "")"
  # Files where a command takes files.
  touch "$tmp/catalog"
  expect "catsign sign DIR/catal<Tab>" "$tmp/catalog" "$(tab sign "$tmp/catal")"
  ;;

man)
  page="$src/man/catsign.1.scd"
  # section NAME: the lines of "## NAME" up to the next heading.
  section() { awk -v h="## $1" '$0 == h {on = 1; next} /^#/ {on = 0} on' "$page"; }
  for c in $commands; do
    grep -qE "^\*catsign $c( |\*)" "$page" || fail "catsign.1: no SYNOPSIS line for '$c'"
    subs=$(help_commands "$c")
    if [[ -n $subs ]]; then
      for s in $subs; do
        grep -qx "## $c $s" "$page" || fail "catsign.1: no section '## $c $s'"
        for o in $(help_options "$c" "$s" | grep -vxE -- '--help|--help-all'); do
          section "$c $s" | grep -qF -- "*$o*" || fail "catsign.1: '$c $s' does not document $o"
        done
      done
      continue
    fi
    grep -qx "## $c" "$page" || fail "catsign.1: no section '## $c'"
    for o in $(help_options "$c" | grep -vxE -- '--help|--help-all'); do
      text=$(section "$c")
      # --config and --key are described once, for every command, under GLOBAL OPTIONS.
      if [[ $o == --config || $o == --key ]]; then
        text=$(awk '/^# GLOBAL OPTIONS/ {on = 1; next} /^# / {on = 0} on' "$page")
      fi
      grep -qF -- "*$o*" <<<"$text" || fail "catsign.1: '$c' does not document $o"
    done
  done
  for o in $(help_options | grep -vxE -- '--help'); do
    grep -qF -- "*$o*" "$page" || fail "catsign.1: the global option $o is not documented"
  done

  # catsign.toml(5): every setting of every section the parser accepts, under its heading.
  toml="$src/man/catsign.toml.5.scd"
  calls=$(tr '\n' ' ' <"$src/src/config/config.cpp" | grep -oE 'r\.only\([^;]*\);')
  [[ -n $calls ]] || fail "found no r.only(...) calls in src/config/config.cpp to check catsign.toml.5 against"
  while IFS= read -r call; do
    name=$(sed -E 's/^r\.only\([^,]*, *("[^"]*"|section),.*/\1/' <<<"$call" | tr -d '"')
    [[ $name == "top level" ]] && continue
    [[ $name == section ]] && name="keys.NAME"
    grep -qx "# \[$name\]" "$toml" || { fail "catsign.toml.5: no section [$name]"; continue; }
    body=$(awk -v h="# [$name]" '$0 == h {on = 1; next} /^# / {on = 0} on' "$toml")
    for key in $(grep -oE '\{[^}]*\}' <<<"$call" | grep -oE '"[a-z_]+"' | tr -d '"'); do
      grep -qF -- "*$key*" <<<"$body" || fail "catsign.toml.5: [$name] does not document $key"
    done
  done <<<"$calls"
  ;;

version)
  for program in "$catsign" "$catsignd"; do
    name=$(basename "$program")
    out=$("$program" --version 2>&1)
    status=$?
    [[ $status -eq 0 ]] || fail "$name --version exited $status"
    [[ $out =~ ^$name\ ${version//./\\.}(\ \(git\ [A-Za-z0-9._+~/-]+\))?$ ]] ||
      fail "$name --version printed '$out', expected '$name $version' and maybe ' (git DESCRIPTION)'"
  done
  ;;

*) echo "unknown aspect '$aspect'"; exit 2 ;;
esac

if [[ $failures -gt 0 ]]; then
  echo "$failures failures"
  exit 1
fi
echo "$aspect: OK"
