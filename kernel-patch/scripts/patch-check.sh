#!/bin/bash
# patch-check.sh PRISTINE TREE KP_DIR FRAGMENT: apply the series on a fresh
# tree, check that the core in the series is byte-identical to
# KP_DIR/core, run checkpatch --strict on every patch (no error, warning or
# check), check every upstream commit id the series cites, that every file
# it adds has maintainers, and that the cover letter lists the series as it
# is, and build the files the series touches with W=1 and with sparse
# (C=2), before and after the series, reporting warnings the series adds.
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
# Two checks cannot work on Debian's source tree and are done below instead:
# UNKNOWN_COMMIT_ID looks ids up in the tree's git history, which a source
# package does not have (upstream ids are checked against
# series-src/upstream-commits); FILE_PATH_CHANGES asks whether MAINTAINERS
# needs an entry for an added file, which a series for a stable tree does
# not change (every added file must have maintainers already).
te=0 tw=0 tc=0
while IFS= read -r p; do
	case "$p" in ''|'#'*) continue ;; esac
	# Debian's python3 (python3-ply, python3-git) for the SPDX check, not a pyenv one
	out=$(cd "$tree" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict \
		--ignore UNKNOWN_COMMIT_ID,FILE_PATH_CHANGES "$series/$p" 2>&1 || true)
	tot=$(echo "$out" | grep '^total:')
	echo "$p: $tot"
	echo "$out" | grep -E '^(ERROR|WARNING|CHECK)' || true
	read -r e w c <<<"$(echo "$tot" | sed -E 's/total: ([0-9]+) errors, ([0-9]+) warnings, ([0-9]+) checks.*/\1 \2 \3/')"
	te=$((te + e)); tw=$((tw + w)); tc=$((tc + c))
done < "$series/series"
echo "checkpatch: $te errors, $tw warnings, $tc checks"
[ "$te" = 0 ] && [ "$tw" = 0 ] && [ "$tc" = 0 ] || fail=1

echo "== upstream commit ids"
known=$kp/series-src/upstream-commits
while IFS= read -r p; do
	case "$p" in ''|'#'*) continue ;; esac
	# the commit message: from the Subject line to the "---" before the diff
	sed -n '/^Subject: /,/^---$/p' "$series/$p" | tr '\n' ' ' |
	{ grep -oE 'commit [0-9a-f]{12,40}( upstream\.| \("[^"]*"\))' || true; } | while read -r _ id rest; do
		line=$(grep -E "^$id[0-9a-f]* " "$known" || true)
		if [ -z "$line" ] || [ "$(echo "$line" | wc -l)" != 1 ]; then
			echo "FAIL: $p: commit $id is not in series-src/upstream-commits"; echo x >> "$tree.idfail"
			continue
		fi
		subj=${line#* }
		case "$rest" in
		upstream.) echo "$p: commit $id upstream: $subj" ;;
		*)	cited=$(echo "$rest" | sed -E 's/^\("(.*)"\)$/\1/')
			if [ "$cited" = "$subj" ]; then
				echo "$p: commit $id (\"$subj\")"
			else
				echo "FAIL: $p: commit $id is \"$subj\", cited as \"$cited\""; echo x >> "$tree.idfail"
			fi ;;
		esac
	done
done < "$series/series"
if [ -s "$tree.idfail" ]; then fail=1; fi
rm -f "$tree.idfail"

echo "== maintainers of added files"
for f in $(cd "$tree" && git diff --name-only --diff-filter=A HEAD~"$(grep -cv '^\(#\|$\)' "$series/series")"); do
	m=$(cd "$tree" && perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats -f "$f" 2>/dev/null | grep -c 'bpf@vger.kernel.org' || true)
	if [ "$m" -gt 0 ]; then
		echo "$f: maintained (bpf@vger.kernel.org, $(cd "$tree" && perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats --sections -f "$f" 2>/dev/null | grep -E '^[A-Z]' | head -3 | tr '\n' ';'))"
	else
		echo "FAIL: $f has no maintainer entry"; fail=1
	fi
done

echo "== cover letter"
cover=$series/0000-cover-letter.patch
n=$(grep -cv '^\(#\|$\)' "$series/series")
# git's own summary of the series (shortlog by author, then diffstat),
# as format-patch --cover-letter writes it, must be the cover letter's
git -C "$tree" -c core.abbrev=9 format-patch -q --cover-letter --stdout HEAD~"$n" |
	sed -n '/^\*\*\* BLURB HERE \*\*\*$/,/^-- $/p' | sed '1,2d;$d' > "$tree.summary"
if [ ! -f "$cover" ]; then
	echo "FAIL: no $cover"; fail=1
elif ! grep -q "^Subject: \[PATCH 0/$n\] " "$cover"; then
	echo "FAIL: the cover letter's subject is not [PATCH 0/$n]"; fail=1
elif ! python3 - "$cover" "$tree.summary" <<'PY'
import sys
cover, summary = open(sys.argv[1]).read(), open(sys.argv[2]).read()
sys.exit(0 if summary.strip() and summary in cover else 1)
PY
then
	echo "FAIL: the cover letter's shortlog and diffstat are not the series' (git format-patch --cover-letter says:)"
	cat "$tree.summary"; fail=1
else
	echo "$(basename "$cover"): subject [PATCH 0/$n], shortlog and diffstat match the series"
fi

echo "== W=1 and sparse builds"
out=$tree.build
objs="kernel/bpf/btf.o kernel/module/main.o"
mkdir -p "$out"
make -s -C "$tree" O="$out" tinyconfig
"$tree/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
make -s -C "$tree" O="$out" olddefconfig
build() { # label: W=1 and C=2 of the objects; warnings only, paths and line numbers dropped
	local label=$1 o
	shift
	{
		# prepare builds the host tools too (resolve_btfids): their warnings count
		make -C "$tree" O="$out" prepare 2>&1 | grep -E 'warning:|error:' || true
		for o in $objs "$@"; do
			[ -f "$tree/${o%.o}.c" ] || continue
			make -C "$tree" O="$out" W=1 C=2 "$o" 2>&1 | grep -E 'warning:|error:' || true
		done
	} | sed -E 's/:[0-9]+:[0-9]+:/:/' | sort > "$out/warnings.$label"
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
