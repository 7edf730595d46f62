#!/usr/bin/env bash
# CPack builds the .deb; it is unpacked into a scratch root and run from there.
set -euo pipefail
build="$1" src="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || fail "dpkg-deb is missing (bash .ci/setup installs dpkg-dev)"
(cd "$tmp" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1) \
  || { cat "$tmp/cpack.log" >&2; fail "cpack failed"; }
deb="$(ls "$tmp"/pkg/*.deb 2>/dev/null | head -1)"
[ -n "$deb" ] || fail "cpack wrote no .deb"
info="$(dpkg-deb --info "$deb")"
contents="$(dpkg-deb --contents "$deb")"
grep '^ [A-Z][A-Za-z-]*:' <<<"$info"
grep -q "^ Depends: .*libc6" <<<"$info" || fail "the package declares no library dependencies"
grep -q "./usr/share/man/man1/persona.1" <<<"$contents" || fail "the package has no man page"
dpkg-deb -x "$deb" "$tmp/root"
bin="$tmp/root/usr/bin/persona"
[ -x "$bin" ] || fail "the package has no usr/bin/persona"
version="$(env -u PERSONA_STDLIB "$bin" --version)"
echo "$version"
grep -qF "($tmp/root/usr/share/persona/stdlib)" <<<"$version" || fail "the unpacked binary does not use the packaged stdlib"
cp "$src/examples/kenya-adults.persona" "$tmp/k.persona"
(cd "$tmp" && env -u PERSONA_STDLIB "$bin" run k.persona --count 2 --seed 9 --out k.jsonl)
[ "$(wc -l <"$tmp/k.jsonl")" -eq 2 ] || fail "persona run from the package did not write 2 personas"
grep -q '"anchors"' "$tmp/k.jsonl" || fail "the personas have no anchors"
echo "ok: $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB) unpacked and ran"
