#!/bin/bash
# check.sh PRISTINE WORK UPSTREAM_DIR: the upstream fix series' check (make
# upstream-check). PRISTINE is the git repository of Debian's
# linux-source-7.2 (7.2.13); WORK a scratch directory; UPSTREAM_DIR is
# kernel-patch/upstream.
#
#  1. git am every patch of UPSTREAM_DIR/series on a fresh worktree;
#  2. the tree's scripts/checkpatch.pl --strict on every patch: no error,
#     warning or check (UNKNOWN_COMMIT_ID is left to step 3: a source
#     package has no git history to look ids up in);
#  3. every Fixes: id is in UPSTREAM_DIR/upstream-commits (full id, subject,
#     and where it was found), cited with that subject;
#  4. the cover letter's shortlog and diffstat are the series';
#  5. the btf_distill selftests in userspace against unpatched and patched
#     libbpf (selftests.sh);
#  6. the kernel rows (kernel-rows.sh): btfrecon validate (--kasan unless
#     UPSTREAM_VALIDATE_FLAGS says otherwise) of the unpatched and of the
#     patched tree, kept at one path (UPSTREAM_KERNEL_TREE, default
#     WORK/../kernel-tree) so the patched kernels build incrementally, and
#     the hostile rows validate leaves out, each booted alone on validate's
#     kernels; UPSTREAM_KERNEL_ROWS=0 skips them (the last line says so).
#     BTFRECON names the btfrecon binary.
# Last line:
#   series N patches: applies, checkpatch clean; unpatched: K/K reproduce; patched: K/K clean
set -euo pipefail
pristine=$(realpath "$1") work=$2 up=$(realpath "$3")
here=$up/scripts
series=$up/series
mkdir -p "$work"
work=$(realpath "$work")
tree=$work/check-tree
fail=0
n=$(grep -cv '^\(#\|$\)' "$series/series")

echo "== git am on a fresh tree"
"$up/../scripts/apply-series.sh" "$pristine" "$tree" "$series"

echo "== checkpatch --strict"
te=0 tw=0 tc=0
while IFS= read -r p; do
	case "$p" in ''|'#'*) continue ;; esac
	# Debian's python3 (python3-ply, python3-git) for the SPDX check
	out=$(cd "$tree" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict \
		--ignore UNKNOWN_COMMIT_ID "$series/$p" 2>&1 || true)
	tot=$(echo "$out" | grep '^total:')
	echo "$p: $tot"
	echo "$out" | grep -E '^(ERROR|WARNING|CHECK)' -A3 || true
	read -r e w c <<<"$(echo "$tot" | sed -E 's/total: ([0-9]+) errors, ([0-9]+) warnings, ([0-9]+) checks.*/\1 \2 \3/')"
	te=$((te + e)); tw=$((tw + w)); tc=$((tc + c))
done < "$series/series"
echo "checkpatch: $te errors, $tw warnings, $tc checks"
cp_ok=1
[ "$te" = 0 ] && [ "$tw" = 0 ] && [ "$tc" = 0 ] || { cp_ok=0; fail=1; }

echo "== Fixes: ids"
known=$up/upstream-commits
while IFS= read -r p; do
	case "$p" in ''|'#'*) continue ;; esac
	while read -r id subj; do
		line=$(grep -E "^$id[0-9a-f]*[[:space:]]" "$known" || true)
		if [ -z "$line" ] || [ "$(echo "$line" | wc -l)" != 1 ]; then
			echo "FAIL: $p: Fixes: $id is not in upstream-commits"; fail=1; continue
		fi
		want=$(echo "$line" | cut -f2)
		if [ "$subj" = "(\"$want\")" ]; then
			echo "$p: Fixes: $id (\"$want\") [$(echo "$line" | cut -f3)]"
		else
			echo "FAIL: $p: Fixes: $id is \"$want\", cited as $subj"; fail=1
		fi
	done < <(sed -n 's/^Fixes: \([0-9a-f]\{12,40\}\) \(.*\)$/\1 \2/p' "$series/$p")
	grep -q '^Fixes: ' "$series/$p" || echo "$p: no Fixes: tag"
done < "$series/series"

echo "== cover letter"
cover=$series/0000-cover-letter.patch
git -C "$tree" -c core.abbrev=9 format-patch -q --cover-letter --stdout HEAD~"$n" |
	sed -n '/^\*\*\* BLURB HERE \*\*\*$/,/^-- $/p' | sed '1,2d;$d' > "$work/summary"
if ! grep -q "^Subject: \[PATCH bpf 0/$n\] " "$cover"; then
	echo "FAIL: the cover letter's subject is not [PATCH bpf 0/$n]"; fail=1
elif ! python3 - "$cover" "$work/summary" <<'PY'
import sys
cover, summary = open(sys.argv[1]).read(), open(sys.argv[2]).read()
sys.exit(0 if summary.strip() and summary in cover else 1)
PY
then
	echo "FAIL: the cover letter's shortlog and diffstat are not the series' (git says:)"
	cat "$work/summary"; fail=1
else
	echo "$(basename "$cover"): subject [PATCH bpf 0/$n], shortlog and diffstat match the series"
fi

echo "== selftests (userspace, libbpf unpatched and patched)"
st_line=
if "$here/selftests.sh" "$pristine" "$tree" "$work/selftests" | tee "$work/selftests.txt"; then :; else fail=1; fi
st_line=$(tail -1 "$work/selftests.txt")
read -r su sk pk <<<"$(echo "$st_line" | sed -E 's#selftests: unpatched ([0-9]+)/([0-9]+) reproduce, patched ([0-9]+)/[0-9]+ clean#\1 \2 \3#')"

echo "== kernel rows (btfrecon validate ${UPSTREAM_VALIDATE_FLAGS---kasan}, unpatched and patched)"
ku=0 kk=0 kp=0 knote=
if [ "${UPSTREAM_KERNEL_ROWS:-1}" = 0 ]; then
	echo "kernel rows: not run (UPSTREAM_KERNEL_ROWS=0)"
	knote="; kernel rows not run"
else
	ktree=${UPSTREAM_KERNEL_TREE:-$work/../kernel-tree}
	if "$here/kernel-rows.sh" "$pristine" "$ktree" "$series" "$work/kernel"; then :; else fail=1; fi
	if kl=$(tail -1 "$work/kernel/kernel.txt" 2>/dev/null) &&
		[[ "$kl" =~ ^kernel:\ unpatched\ ([0-9]+)/([0-9]+)\ reproduce,\ patched\ ([0-9]+)/[0-9]+\ clean$ ]]; then
		ku=${BASH_REMATCH[1]} kk=${BASH_REMATCH[2]} kp=${BASH_REMATCH[3]}
	else
		echo "FAIL: the kernel rows gave no verdict line"; fail=1
	fi
fi

k=$((sk + kk))
echo "rows: $sk libbpf selftests, $kk kernel rows"
ap="applies"
[ "$cp_ok" = 1 ] && cl="checkpatch clean" || cl="checkpatch NOT clean"
echo "series $n patches: $ap, $cl; unpatched: $((su + ku))/$k reproduce; patched: $((pk + kp))/$k clean$knote"
[ "$fail" = 0 ]
