#!/bin/bash
# kernel.sh PRISTINE UPDIR UPSTREAM_DIR PAHOLE: the two kernels of the
# series' kernel proof (make upstream-kernel). One worktree of PRISTINE
# (UPDIR/kernel-src) and one build directory (UPDIR/kernel-build):
#
#   unpatched: build-kernel.sh of the tree as Debian ships it (tinyconfig +
#              UPSTREAM_DIR/kernel/minimal-7.2.config), then the test module
#              (kernel-patch/upstream/testmod) against it, and its rows
#              (cmd/upstreamcases) -> UPDIR/kernel/unpatched/{bzImage,rows/}
#   patched:   git am UPSTREAM_DIR/series on the same worktree, the same
#              build again (incremental), module, rows -> UPDIR/kernel/patched/
#
# PAHOLE (>= 1.26) gives the out-of-tree test module its distilled
# .BTF.base, as kbuild does for every external module. Each side is done
# once (UPDIR/kernel/<side>/.done).
set -euo pipefail
pristine=$(realpath "$1") updir=$(realpath "$2") up=$(realpath "$3") pahole=$4
src=$updir/kernel-src out=$updir/kernel-build kdir=$updir/kernel
series=$up/series
frag=$up/kernel/minimal-7.2.config
testmod=$up/testmod
labels="hostile:split-id-out-of-range hostile:array-cycle hostile:array-typedef-cycle hostile:ptr-id-out-of-range hostile:typedef-cycle"
base=$(git -C "$pristine" rev-parse HEAD)
cases_bin=$updir/upstreamcases
(cd "$up/../.." && go build -o "$cases_bin" ./cmd/upstreamcases)

if [ ! -d "$src/.git" ] && [ ! -f "$src/.git" ]; then
	git -C "$pristine" worktree prune
	git -C "$pristine" worktree add -q --detach "$src" "$base"
fi

side() { # name: build the kernel, the module and the rows of this side
	local name=$1 d=$kdir/$1
	[ -f "$d/.done" ] && { echo "kernel: $name already built ($d)"; return 0; }
	"$up/scripts/build-kernel.sh" "$src" "$out" "$pahole" "$frag"
	rm -rf "$d"
	mkdir -p "$d/testmod"
	cp "$out/arch/x86/boot/bzImage" "$d/"
	cp "$out/.config" "$d/config"
	cp "$testmod/Kbuild" "$testmod"/*.c "$d/testmod/"
	make -s -C "$src" O="$out" ARCH=x86_64 PAHOLE="$pahole" M="$d/testmod" modules
	"$cases_bin" -ko "$d/testmod/btfrecon_up.ko" -out "$d/rows" -kfunc btfrecon_up_kfunc $labels
	{ echo "base: $(git -C "$src" log --oneline -1 "$base")"; git -C "$src" log --oneline "$base"..HEAD; } > "$d/tree.txt"
	touch "$d/.done"
	echo "kernel: $name: $d/bzImage, rows: $(cut -d' ' -f1 "$d/rows/rows.txt" | tr '\n' ' ')"
}

if [ ! -f "$kdir/unpatched/.done" ]; then
	[ "$(git -C "$src" rev-parse HEAD)" = "$base" ] ||
		{ echo "kernel: $src is not at the pristine commit; remove it and $out to start over" >&2; exit 1; }
	side unpatched
fi
if [ ! -f "$kdir/patched/.done" ]; then
	if [ "$(git -C "$src" rev-parse HEAD)" = "$base" ]; then
		while IFS= read -r p; do
			case "$p" in ''|'#'*) continue ;; esac
			git -C "$src" -c user.name=btfrecon -c user.email=btfrecon@example.org am -q "$series/$p"
		done < "$series/series"
	fi
	side patched
fi
