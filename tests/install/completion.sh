#!/usr/bin/env bash
# The generated bash completion, driven as bash drives it (COMP_WORDS, COMP_CWORD, COMPREPLY).
set -euo pipefail
gen="$3"
fail() { echo "FAIL: $*" >&2; exit 1; }
bash -n "$gen/persona.bash" || fail "persona.bash is not valid bash"
# shellcheck source=/dev/null
source "$gen/persona.bash"
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMPREPLY=()
  _persona
  echo "${COMPREPLY[*]}"
}
[ "$(complete_words persona ch)" = "check check-personas" ] || fail "persona ch<TAB> is not check check-personas"
[ "$(complete_words persona fm)" = "fmt" ] || fail "persona fm<TAB> is not fmt"
[ "$(complete_words persona l)" = "lsp" ] || fail "persona l<TAB> is not lsp"
[ "$(complete_words persona taxonomy st)" = "stats" ] || fail "persona taxonomy st<TAB> is not stats"
got="$(complete_words persona run --c)"
for w in --count --concurrency --cache --config; do
  [[ " $got " == *" $w "* ]] || fail "persona run --c<TAB> lacks $w (got: $got)"
done
[ -z "$(complete_words persona run --out '')" ] || fail "after --out the shell's file names should complete"
[[ "$(complete_words persona '')" != *"_generate"* ]] || fail "the hidden _generate command is offered"
echo "ok"
