#!/bin/bash
# format-series.sh TREE BASE: write kernel-patch/upstream/series/ from the
# commits BASE..HEAD of TREE (a 7.2.13 tree with the series applied):
# git format-patch --cover-letter with the subject prefix "PATCH bpf", the
# series file, and the cover letter's subject and blurb filled in from
# kernel-patch/upstream/cover.txt (first line: the subject; the rest: the
# blurb; @KERNEL_RESULT@ is replaced by the kernel/result.txt line). The
# cover letter is from the placeholder sender whoever runs it.
set -euo pipefail
tree=$1 base=$2
up=$(dirname "$(realpath "$0")")/..
out=$up/series
rm -rf "$out.tmp"
git -C "$tree" -c core.abbrev=9 -c user.name="Placeholder Sender" -c user.email=placeholder@example.invalid format-patch -q --subject-prefix="PATCH bpf" --cover-letter \
	-o "$out.tmp" "$base"
(cd "$out.tmp" && ls | grep -v '^0000-cover-letter' > ../.series.tmp && mv ../.series.tmp series)
python3 - "$out.tmp/0000-cover-letter.patch" "$up/cover.txt" "$up/kernel/result.txt" <<'PY'
import sys
cover_path, text_path, result_path = sys.argv[1:4]
cover = open(cover_path).read()
subject, blurb = open(text_path).read().split("\n", 1)
try:
    result = open(result_path).read().strip()
except FileNotFoundError:
    result = "not run"
blurb = blurb.strip("\n").replace("@KERNEL_RESULT@", result)
cover = cover.replace("*** SUBJECT HERE ***", subject, 1)
cover = cover.replace("*** BLURB HERE ***", blurb, 1)
lines = cover.split("\n")
lines = ["From: Placeholder Sender <placeholder@example.invalid>" if l.startswith("From: ") else l
         for l in lines]
open(cover_path, "w").write("\n".join(lines))
PY
rm -rf "$out"
mv "$out.tmp" "$out"
echo "format-series: $(wc -l < "$out/series") patches in $out"
