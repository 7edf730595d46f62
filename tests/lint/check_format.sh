#!/usr/bin/env bash
# Every tracked C++ file is laid out as .clang-format says; prints the files that are not and how to
# fix them. Fails (never skips) when clang-format or git is missing.
set -euo pipefail
cd "$1"
command -v clang-format >/dev/null || { echo "clang-format is not installed (.ci/setup installs it)"; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
[ "${#files[@]}" -gt 0 ] || { echo "no C++ files found under $1"; exit 1; }
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ "${#bad[@]}" -gt 0 ]; then
  printf 'not clang-formatted: %s\n' "${bad[@]}"
  echo "fix with: clang-format -i ${bad[*]}"
  exit 1
fi
echo "${#files[@]} C++ files are clang-formatted"
