#!/bin/bash
# pristine-tree.sh TARBALL DIR: DIR becomes a git repository holding the
# extracted Debian linux-source tarball as one commit (done once; DIR/.complete).
set -euo pipefail
tar=$1 dir=$2
[ -f "$dir/.complete" ] && exit 0
rm -rf "$dir" "$dir.tmp"
mkdir -p "$dir.tmp"
echo "pristine-tree: extracting $tar"
tar -xJf "$tar" -C "$dir.tmp" --strip-components=1
cd "$dir.tmp"
git init -q
# Debian's top-level .gitignore ignores everything: add by force
git add -f -A .
GIT_AUTHOR_NAME=btfrecon GIT_AUTHOR_EMAIL=btfrecon@example.org \
GIT_COMMITTER_NAME=btfrecon GIT_COMMITTER_EMAIL=btfrecon@example.org \
	git commit -q -m "$(basename "$tar")"
touch .git/btfrecon-complete
cd - >/dev/null
mv "$dir.tmp" "$dir"
touch "$dir/.complete"
