#!/bin/bash
# series-tree.sh PRISTINE TREE SERIES_DIR: TREE becomes a worktree of the
# pristine repository with every patch of SERIES_DIR/series applied by git am
# (apply-series.sh, on a scratch worktree), and stays one between runs: when
# TREE is already there it is moved to the new commit with git reset --hard,
# which rewrites only the files whose content differs. A kernel built in TREE
# (btfrecon validate --tree TREE) then rebuilds only what a changed patch
# touches. TREE is ours: edits made in it by hand are discarded.
set -euo pipefail
pristine=$(realpath "$1") tree=$(realpath -m "$2") series=$(realpath "$3")
here=$(dirname "$0")
scratch=$tree.new
"$here/apply-series.sh" "$pristine" "$scratch" "$series" >/dev/null
new=$(git -C "$scratch" rev-parse HEAD)
git -C "$pristine" worktree remove --force "$scratch"
if [ -e "$tree/.git" ] && git -C "$tree" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	git -C "$tree" reset -q --hard "$new"
else
	rm -rf "$tree"
	git -C "$pristine" worktree prune
	git -C "$pristine" worktree add -q --detach "$tree" "$new"
fi
echo "series-tree: $tree at $(git -C "$tree" log --oneline -n1 | cut -c1-60) ($(grep -cv '^\(#\|$\)' "$series/series") patches)"
