#!/bin/bash
# kernel.sh KERNEL_DIR VERSION TARBALL KP_DIR NAME ARCH FRAGMENT...: build (or
# find cached) the 6.1 kernel NAME: Debian's linux-source tree VERSION with
# every patch of KP_DIR/series, for ARCH, configured from the fragments.
# Cached by (source version, the series' diffs, arch, fragments, build
# script): commit messages are not part of the key, so rewording a patch
# does not cost a rebuild. The patched source tree is shared by every build
# of one series. On success KERNEL_DIR/NAME is a symlink to the build's
# directory (src/, build/, build.log). KEY_ONLY=1: print that directory, build nothing.
set -euo pipefail
kdir=$1 v=$2 tar=$3 kp=$(realpath "$4") name=$5 arch=$6
shift 6
frags=()
for f in "$@"; do frags+=("$(realpath "$f")"); done
# the series file and, of each patch, only its diff
diffs() {
	local p
	grep -v '^\(#\|$\)' "$kp/series/series"
	while IFS= read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		sed -n '/^diff --git /,/^-- $/p' "$kp/series/$p"
	done < "$kp/series/series"
}
series_key=$(diffs | sha256sum | cut -c1-12)
key=$( (echo "$arch"; diffs; cat "${frags[@]}" "$kp/scripts/build-kernel.sh") | sha256sum | cut -c1-12)
out=$kdir/linux-$v-$arch-$key
if [ -n "${KEY_ONLY:-}" ]; then echo "$out"; exit 0; fi
if [ -f "$out/build/.built" ]; then
	echo "$name: cached $out ($(cat "$out/build/.built"))"
	ln -sfn "$out" "$kdir/$name"
	exit 0
fi
"$kp/scripts/pristine-tree.sh" "$tar" "$kdir/pristine-$v"
src=$kdir/src-$v-$series_key
if [ ! -f "$src/.applied" ]; then
	"$kp/scripts/apply-series.sh" "$kdir/pristine-$v" "$src" "$kp/series"
	touch "$src/.applied"
fi
mkdir -p "$out"
ln -sfn "$src" "$out/src"
echo "$name: building $arch in $out (log: $out/build.log)"
"$kp/scripts/build-kernel.sh" "$src" "$out/build" "$arch" "${frags[@]}" > "$out/build.log" 2>&1 ||
	{ tail -30 "$out/build.log"; exit 1; }
cat "$out/build/.built"
ln -sfn "$out" "$kdir/$name"
