#!/bin/bash
# scenario.sh ARCH RUN BUILD MODE CASEDIR: the patched-kernel VM scenario.
# RUN and BUILD are two kernel build directories of kernel.sh (two configs of
# the same source: two really different vmlinux BTFs). The test module is
# built three times: against BUILD with 6.1's kbuild and pahole 1.24 (plain
# split BTF, which vmcase distils with the model into its variants), against
# BUILD with a real pahole >= 1.28 (the series' kbuild asks it for
# .BTF.base; resolve_btfids resolves .BTF_ids against it), against RUN
# itself (no .BTF.base: the path every module takes), and against the
# headers of the UNPATCHED source configured as RUN (what a module built
# before the series looks like to the patched kernel: struct module's ABI).
# RUN's kernel boots them all (boot-test.sh; MODE = refuse|allow, RUN's
# CONFIG_MODULE_ALLOW_BTF_MISMATCH). RUN and BUILD may be the same build (a
# KASAN run on one build: vmcase -same-base). Run from the repository's top
# directory.
set -euo pipefail
arch=$1 run=$(realpath "$2") build=$(realpath "$3") mode=$4 case=$5
kp=$(realpath kernel-patch)
go=${GO:-go}
case "$arch" in
x86_64) mk=(ARCH=x86_64) cc=gcc objcopy=objcopy image=$run/build/arch/x86/boot/bzImage ;;
arm64) mk=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) cc=aarch64-linux-gnu-gcc
	objcopy=aarch64-linux-gnu-objcopy image=$run/build/arch/arm64/boot/Image ;;
esac
kdir=$(dirname "$run")
pahole=$("$kp/scripts/pahole-trixie.sh" "$kdir/pahole")
rm -rf "$case"
for m in mod native pahole oldhdr; do
	mkdir -p "$case/$m"
	cp "$kp"/testmod/* "$case/$m/"
done
make -s -C "$build/build" "${mk[@]}" M="$case/mod" modules
make -s -C "$run/build" "${mk[@]}" M="$case/native" modules
make -s -C "$build/build" "${mk[@]}" PAHOLE="$pahole" M="$case/pahole" modules
echo "scenario: the pahole module was built with $("$pahole" --version) ($pahole)"
# the unpatched source, configured as RUN and prepared for external modules
# (once per config): kernel.release is the same ("6.1.x+"), so vermagic is too
pristine=$(ls -d "$kdir"/pristine-*/ | head -1)
old_src=$kdir/unpatched-src
if [ ! -f "$old_src/.ready" ]; then
	rm -rf "$old_src"
	git -C "$pristine" worktree prune
	git -C "$pristine" worktree add -q --detach "$old_src" HEAD
	touch "$old_src/.ready"
fi
old_out=$kdir/unpatched-$arch-$(sha256sum "$run/build/.config" | cut -c1-12)
if [ ! -f "$old_out/.prepared" ]; then
	rm -rf "$old_out"
	mkdir -p "$old_out"
	cp "$run/build/.config" "$old_out/.config"
	make -s -C "$old_src" O="$old_out" "${mk[@]}" olddefconfig
	make -s -C "$old_src" O="$old_out" "${mk[@]}" -j"$(nproc)" modules_prepare
	touch "$old_out/.prepared"
fi
# no vmlinux there: no BTF, and no Module.symvers: symbols resolve at load
make -s -C "$old_out" "${mk[@]}" KBUILD_MODPOST_WARN=1 M="$case/oldhdr" modules 2>&1 |
	grep -v 'WARNING: modpost: .* undefined!\|Skipping BTF generation\|Module.symvers is missing' || true
$cc -static -O2 -Wall -Wextra -o "$case/kfunc_call" "$kp/vmtools/kfunc_call.c"
# busybox for the guest: the host's for x86_64, Debian's arm64 package otherwise
if [ "$arch" = x86_64 ]; then
	busybox=/bin/busybox
else
	busybox=$kdir/busybox-arm64/bin/busybox
	if [ ! -x "$busybox" ]; then
		tmp=$(mktemp -d)
		(cd "$tmp" && apt-get download busybox-static:arm64 >/dev/null)
		dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$kdir/busybox-arm64"
		rm -rf "$tmp"
	fi
fi
same=
[ "$run" != "$build" ] || same=-same-base
$go run ./cmd/vmcase $same -run-vmlinux "$run/build/vmlinux" \
	-build-vmlinux "$build/build/vmlinux" -module "$case/mod/btfrecon_test.ko" \
	-native-module "$case/native/btfrecon_test.ko" -pahole-module "$case/pahole/btfrecon_test.ko" \
	-oldhdr-module "$case/oldhdr/btfrecon_test.ko" \
	-objcopy "$objcopy" -out "$case"
"$kp/scripts/boot-test.sh" "$arch" "$image" "$case" "$mode" "$case/kfunc_call" "$busybox"
