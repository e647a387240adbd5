#!/bin/bash
# patch-check.sh PRISTINE TREE KP_DIR FRAGMENT: apply the series on a fresh
# tree, check that the core in the series is byte-identical to
# KP_DIR/core, run checkpatch --strict on every patch, and build the files
# the series touches with W=1 and with sparse (C=2), before and after the
# series, reporting warnings the series adds.
set -euo pipefail
pristine=$1 tree=$2 kp=$(realpath "$3") frag=$(realpath "$4")
series=$kp/series
fail=0

echo "== git am on a fresh tree"
"$kp/scripts/apply-series.sh" "$pristine" "$tree" "$series"

echo "== core identity"
for f in btf_reconcile.c btf_reconcile.h; do
	if cmp -s "$tree/kernel/bpf/$f" "$kp/core/$f"; then
		echo "kernel/bpf/$f == kernel-patch/core/$f"
	else
		echo "FAIL: kernel/bpf/$f differs from kernel-patch/core/$f (run make series)"; fail=1
	fi
done

echo "== checkpatch --strict"
te=0 tw=0 tc=0
while IFS= read -r p; do
	case "$p" in ''|'#'*) continue ;; esac
	# Debian's python3 (python3-ply, python3-git) for the SPDX check, not a pyenv one
	out=$(cd "$tree" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict "$series/$p" 2>&1 || true)
	tot=$(echo "$out" | grep '^total:')
	echo "$p: $tot"
	echo "$out" | grep -E '^(ERROR|WARNING|CHECK)' || true
	read -r e w c <<<"$(echo "$tot" | sed -E 's/total: ([0-9]+) errors, ([0-9]+) warnings, ([0-9]+) checks.*/\1 \2 \3/')"
	te=$((te + e)); tw=$((tw + w)); tc=$((tc + c))
done < "$series/series"
echo "checkpatch: $te errors, $tw warnings, $tc checks"
[ "$te" = 0 ] && [ "$tw" = 0 ] || fail=1

echo "== W=1 and sparse builds"
out=$tree.build
objs="kernel/bpf/btf.o kernel/module/main.o"
mkdir -p "$out"
make -s -C "$tree" O="$out" tinyconfig
"$tree/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
make -s -C "$tree" O="$out" olddefconfig
build() { # label: W=1 and C=2 of the objects; warnings only, paths and line numbers dropped
	local label=$1 o
	make -s -C "$tree" O="$out" prepare >/dev/null 2>&1
	for o in $objs "$@"; do
		[ -f "$tree/${o%.o}.c" ] || continue
		make -C "$tree" O="$out" W=1 C=2 "$o" 2>&1 | grep -E 'warning:|error:' || true
	done | sed -E 's/:[0-9]+:[0-9]+:/:/' | sort > "$out/warnings.$label"
	echo "$label: $(wc -l < "$out/warnings.$label") warning lines"
}
git -C "$tree" checkout -q HEAD~"$(grep -cv '^\(#\|$\)' "$series/series")"
build before
git -C "$tree" checkout -q -
build after kernel/bpf/btf_reconcile.o
new=$(comm -13 "$out/warnings.before" "$out/warnings.after")
if [ -n "$new" ]; then
	echo "FAIL: new warnings:"; echo "$new"; fail=1
else
	echo "no new W=1 or sparse warnings"
fi
exit $fail
