#!/usr/bin/env bash
# The generated man page names every command of `persona --help` and renders cleanly.
set -euo pipefail
build="$1" gen="$3"
fail() { echo "FAIL: $*" >&2; exit 1; }
page="$gen/persona.1"
[ -s "$page" ] || fail "$page is missing"
commands="$("$build/persona" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF { print $1 }')"
[ -n "$commands" ] || fail "persona --help lists no commands"
for c in $commands; do
  # roff writes a hyphen as \- (check-personas -> check\-personas)
  grep -qF ".SS \"persona ${c//-/\\-}" "$page" || fail "the man page does not document 'persona $c'"
done
command -v groff >/dev/null || fail "groff is missing (bash .ci/setup installs groff-base)"
warnings="$(groff -man -Tutf8 -ww -z "$page" 2>&1)"
[ -z "$warnings" ] || fail "groff warnings: $warnings"
echo "ok: $(echo $commands | wc -w) commands documented"
