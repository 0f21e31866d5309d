#!/usr/bin/env bash
# make uninstall: removes the files listed in MANIFEST (CMake's install manifest of the last
# `make install`, paths without DESTDIR) under DESTDIR, then moonwire's own directories that
# are left empty (share/moonwire/types, share/moonwire, share/doc/moonwire). Usage:
#   tools/uninstall.sh MANIFEST [DESTDIR]
set -euo pipefail
manifest=$1
destdir=${2:-}
[[ -f $manifest ]] || { echo "no $manifest: nothing installed by make install" >&2; exit 1; }
dirs=()
while IFS= read -r f || [[ -n $f ]]; do
  [[ -n $f ]] || continue
  rm -fv -- "$destdir$f"
  d=${f%/*}
  while [[ $d == */moonwire || $d == */moonwire/* ]]; do
    dirs+=("$destdir$d")
    d=${d%/*}
  done
done < "$manifest"
if ((${#dirs[@]})); then
  printf '%s\n' "${dirs[@]}" | sort -ur | while IFS= read -r d; do
    [[ -d $d ]] && rmdir --ignore-fail-on-non-empty -- "$d"
  done
fi
rm -f -- "$manifest"
