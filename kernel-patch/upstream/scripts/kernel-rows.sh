#!/bin/bash
# kernel-rows.sh PRISTINE TREE SERIES_DIR OUT: the series' kernel rows
# (make upstream-check, make upstream-kernel), every one through btfrecon.
# For the unpatched tree (TREE at PRISTINE's commit), then the patched one
# (the same TREE moved to the series' last commit by series-tree.sh, so its
# kernels rebuild from the unpatched ones' objects: the files the series
# touches):
#
#   btfrecon validate --tree TREE $UPSTREAM_VALIDATE_FLAGS --json
#       > OUT/<side>/validate.json   kernels A and B, the test modules, the
#       model's rows and the hostile rows that share a boot;
#   btfrecon vm run --arch ARCH --build A --run B --modules btfrecon_up --case LABEL --json
#       > OUT/<side>/case-<name>.json   on validate's two kernels, each hostile
#       row that gets a boot of its own (it may hang an unpatched kernel;
#       validate leaves those out);
#
# then upstreamrows judge OUT/unpatched OUT/patched: a line per hostile row
# and "kernel: unpatched K/K reproduce, patched K/K clean" (exit 1 unless
# every finding reproduces and is clean and nothing else disagrees).
#
# BTFRECON is the btfrecon binary (BTFRECON_SRC set); UPSTREAM_VALIDATE_FLAGS
# defaults to --kasan (UPSTREAM_VALIDATE_FLAGS= for plain kernels; with
# --arch arm64 in it, the rows booted alone boot arm64 too).
set -euo pipefail
pristine=$(realpath "$1") tree=$(realpath -m "$2") series=$(realpath "$3") out=$4
here=$(dirname "$(realpath "$0")")
src=$(realpath "$here/../../..")
btfrecon=${BTFRECON:?BTFRECON names the btfrecon binary}
flags=${UPSTREAM_VALIDATE_FLAGS---kasan}
# The rows booted alone run on validate's kernels, so on its arch.
arch=amd64
case " $flags " in *" --arch arm64 "* | *" --arch=arm64 "*) arch=arm64 ;; esac
mkdir -p "$out"
out=$(realpath "$out")
rm -f "$out/kernel.txt"
rows=$out/upstreamrows
(cd "$src" && go build -o "$rows" ./cmd/upstreamrows)
none=$out/no-series
mkdir -p "$none"
: > "$none/series"

side() { # name series-dir
	local name=$1 ser=$2 d=$out/$1 t0 rc views label
	rm -rf "$d"
	mkdir -p "$d"
	"$here/../../scripts/series-tree.sh" "$pristine" "$tree" "$ser"
	git -C "$tree" log --oneline -n "$(grep -cv '^\(#\|$\)' "$ser/series" || true)" > "$d/tree.txt"
	t0=$(date +%s)
	# shellcheck disable=SC2086 # flags are words
	rc=0; "$btfrecon" validate --tree "$tree" $flags --json > "$d/validate.json" 2> "$d/validate.log" || rc=$?
	echo "kernel rows: $name: validate $flags: exit $rc in $(($(date +%s) - t0)) s (log $d/validate.log)"
	[ "$rc" -le 1 ] || { tail -5 "$d/validate.log" >&2; return 1; }
	grep -E '^(kbuild: [AB]: built|validate: (build|boot|modules))' "$d/validate.log" | sed 's/^/  /' || true
	views=$("$rows" views "$d/validate.json")
	while read -r label; do
		t0=$(date +%s)
		rc=0; "$btfrecon" vm run --arch "$arch" --build "${views% *}" --run "${views#* }" --modules btfrecon_up --case "$label" \
			--step-timeout 60s --json > "$d/case-${label#*:}.json" 2> "$d/case-${label#*:}.log" || rc=$?
		echo "kernel rows: $name: $label alone: exit $rc in $(($(date +%s) - t0)) s"
		[ "$rc" -le 1 ] || { tail -5 "$d/case-${label#*:}.log" >&2; return 1; }
	done < <("$rows" alone)
}

side unpatched "$none"
side patched "$series"
"$rows" judge "$out/unpatched" "$out/patched" | tee "$out/kernel.txt"
