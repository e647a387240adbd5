#!/bin/bash
# apply-series.sh PRISTINE TREE SERIES_DIR: TREE becomes a fresh worktree of the
# pristine repository with every patch of SERIES_DIR/series applied by git am.
set -euo pipefail
pristine=$1 tree=$2 series=$3
rm -rf "$tree"
git -C "$pristine" worktree prune
git -C "$pristine" worktree add -q --detach "$tree" HEAD
cd "$tree"
while IFS= read -r p; do
	case "$p" in ''|'#'*) continue ;; esac
	git -c user.name=btfrecon -c user.email=btfrecon@example.org am -q --keep-cr "$series/$p"
done < "$series/series"
git log --oneline -n "$(grep -cv '^\(#\|$\)' "$series/series")"
