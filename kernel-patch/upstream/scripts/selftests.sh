#!/bin/bash
# selftests.sh PRISTINE PATCHED OUT: the series' btf_distill selftests in
# userspace. The PATCHED tree's prog_tests/btf_distill.c (with the series'
# new subtests) is built twice with the run_btf_distill shim: against
# libbpf from the PRISTINE tree and from the PATCHED tree.
#
# Judged: against unpatched libbpf every subtest the series adds must fail
# (FAIL, CRASH or HANG) and every other one pass; against patched libbpf
# every subtest must pass. Prints one "unpatched"/"patched" verdict line per
# added subtest, then
#   selftests: unpatched A/K reproduce, patched B/K clean
# and exits non-zero unless both are K/K and the old subtests pass.
set -euo pipefail
pristine=$(realpath "$1") patched=$(realpath "$2") out=$3
here=$(dirname "$(realpath "$0")")
timeout=${SELFTEST_TIMEOUT:-10}
mkdir -p "$out"
out=$(realpath "$out")
rel=tools/testing/selftests/bpf/prog_tests/btf_distill.c

subtests() { sed -n 's/.*test__start_subtest("\([^"]*\)").*/\1/p' "$1/$rel"; }
added=$(comm -13 <(subtests "$pristine" | sort) <(subtests "$patched" | sort))
[ -n "$added" ] || { echo "selftests: the series adds no btf_distill subtest" >&2; exit 1; }
k=$(echo "$added" | wc -l)

"$here/selftest-build.sh" "$patched" "$pristine" "$out/unpatched"
"$here/selftest-build.sh" "$patched" "$patched" "$out/patched"
for side in unpatched patched; do
	echo "== $side libbpf ($([ $side = unpatched ] && echo "$pristine" || echo "$patched")/tools/lib/bpf)"
	"$out/$side/run_btf_distill" -t "$timeout" > "$out/$side.out" 2> "$out/$side.log" || true
	cat "$out/$side.out"
done

fail=0 repro=0 clean=0
for t in $added; do
	u=$(awk -v t="$t" '$2 == t { print $1 }' "$out/unpatched.out")
	p=$(awk -v t="$t" '$2 == t { print $1 }' "$out/patched.out")
	case "$u" in FAIL|CRASH|HANG) repro=$((repro + 1)) ;; *) fail=1 ;; esac
	[ "$p" = PASS ] && clean=$((clean + 1)) || fail=1
	echo "subtest $t: unpatched $u, patched $p"
done
# the subtests that were there before the series pass on both
for side in unpatched patched; do
	while read -r verdict name _; do
		case "$verdict" in PASS|SKIP|summary:) continue ;; esac
		echo "$added" | grep -qx "$name" && continue
		echo "FAIL: $side libbpf: existing subtest $name: $verdict"; fail=1
	done < "$out/$side.out"
done
echo "selftests: unpatched $repro/$k reproduce, patched $clean/$k clean"
[ "$fail" = 0 ] && [ "$repro" = "$k" ] && [ "$clean" = "$k" ]
