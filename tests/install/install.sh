#!/usr/bin/env bash
# cmake --install into a scratch prefix; the installed binary must find the installed stdlib.
set -euo pipefail
build="$1" src="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in bin/persona share/persona/stdlib/VERSION share/persona/stdlib/tables/countries.toml \
         share/persona/stdlib/taxonomy/core share/man/man1/persona.1 \
         share/bash-completion/completions/persona share/zsh/vendor-completions/_persona; do
  [ -e "$tmp/prefix/$f" ] || fail "cmake --install did not install $f"
done
version="$(env -u PERSONA_STDLIB "$tmp/prefix/bin/persona" --version)"
echo "$version"
grep -q "^persona [0-9]" <<<"$version" || fail "--version does not print the engine version"
grep -qF "stdlib $(cat "$src/stdlib/VERSION") ($tmp/prefix/share/persona/stdlib)" <<<"$version" \
  || fail "the installed binary does not use the installed stdlib"
cp "$src/examples/quickstart.persona" "$tmp/q.persona"
(cd "$tmp" && env -u PERSONA_STDLIB "$tmp/prefix/bin/persona" run q.persona --count 3 --seed 5 --out out.jsonl)
[ "$(wc -l <"$tmp/out.jsonl")" -eq 3 ] || fail "persona run from the install wrote $(wc -l <"$tmp/out.jsonl") personas, not 3"
echo "ok: installed into $tmp/prefix and generated 3 personas"
