#!/bin/bash
# bisect.sh TREE OUT: which fix makes which selftest pass. TREE is a 7.2.13
# tree with the series applied (HEAD: the selftests patch). For the base and
# every commit of the series, libbpf is built from that commit (git archive
# of what libbpf's build needs) and the series' btf_distill subtests (from
# HEAD) run against it. Prints one row per commit, a column per added
# subtest (P pass, F fail, C crash, H hang), and checks that each added
# subtest passes from exactly one fix on: fails before it, passes at it and
# after. Exit status 0 iff so.
set -euo pipefail
tree=$(realpath "$1") out=$2
here=$(dirname "$(realpath "$0")")
mkdir -p "$out"
out=$(realpath "$out")
rel=tools/testing/selftests/bpf/prog_tests/btf_distill.c
members="tools/lib/bpf tools/include tools/scripts tools/build tools/arch scripts/bpf_doc.py include/uapi/linux/bpf.h"
n=$(git -C "$tree" rev-list --count HEAD)
base=$(git -C "$tree" rev-list --max-parents=0 HEAD)
subtests() { git -C "$tree" show "$1:$rel" | sed -n 's/.*test__start_subtest("\([^"]*\)").*/\1/p'; }
added=$(comm -13 <(subtests "$base" | sort) <(subtests HEAD | sort))
commits=$(git -C "$tree" rev-list --reverse HEAD)

declare -A first=()
fail=0
printf '%-10s' commit; for t in $added; do printf ' %s' "${t#distilled_base_}"; done; echo
for c in $commits; do
	d=$out/$c
	if [ ! -x "$d/run/run_btf_distill" ]; then
		rm -rf "$d/lib"; mkdir -p "$d/lib"
		# shellcheck disable=SC2086
		git -C "$tree" archive "$c" $members | tar -x -C "$d/lib"
		"$here/selftest-build.sh" "$tree" "$d/lib" "$d/run" >/dev/null
	fi
	"$d/run/run_btf_distill" -t 10 $added > "$d/out" 2>/dev/null || true
	printf '%-10s' "$(git -C "$tree" rev-parse --short=9 "$c")"
	for t in $added; do
		v=$(awk -v t="$t" '$2 == t { print substr($1, 1, 1) }' "$d/out")
		s=${t#distilled_base_}
		printf ' %*s' "${#s}" "$v"
		if [ "$v" = P ]; then
			[ -n "${first[$t]:-}" ] || first[$t]=$c
		elif [ -n "${first[$t]:-}" ]; then
			echo; echo "FAIL: $t passes at ${first[$t]} but not at $c"; fail=1
		fi
	done
	echo "  $(git -C "$tree" log -1 --format=%s "$c" | cut -c1-60)"
done
for t in $added; do
	c=${first[$t]:-}
	if [ -z "$c" ]; then echo "FAIL: $t never passes"; fail=1; continue; fi
	[ "$c" != "$base" ] || { echo "FAIL: $t passes without the series"; fail=1; continue; }
	echo "$t: fixed by $(git -C "$tree" log -1 --format='%h ("%s")' "$c")"
done
[ "$fail" = 0 ]
