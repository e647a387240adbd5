#!/bin/bash
# scenario.sh ARCH RUN BUILD MODE CASEDIR: the patched-kernel VM scenario.
# RUN and BUILD are two kernel build directories of kernel.sh (two configs of
# the same source: two really different vmlinux BTFs). The test module is
# built against BUILD, vmcase makes its variants (distilled by the model),
# and RUN's kernel boots them (boot-test.sh; MODE = refuse|allow, RUN's
# CONFIG_MODULE_ALLOW_BTF_MISMATCH). Run from the repository's top directory.
set -euo pipefail
arch=$1 run=$(realpath "$2") build=$(realpath "$3") mode=$4 case=$5
kp=$(realpath kernel-patch)
go=${GO:-go}
case "$arch" in
x86_64) mk=(ARCH=x86_64) cc=gcc objcopy=objcopy image=$run/build/arch/x86/boot/bzImage ;;
arm64) mk=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) cc=aarch64-linux-gnu-gcc
	objcopy=aarch64-linux-gnu-objcopy image=$run/build/arch/arm64/boot/Image ;;
esac
rm -rf "$case"
mkdir -p "$case/mod"
cp "$kp"/testmod/* "$case/mod/"
make -s -C "$build/build" "${mk[@]}" M="$case/mod" modules
$cc -static -O2 -Wall -Wextra -o "$case/kfunc_call" "$kp/vmtools/kfunc_call.c"
# busybox for the guest: the host's for x86_64, Debian's arm64 package otherwise
kdir=$(dirname "$run")
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
$go run ./cmd/vmcase -run-vmlinux "$run/build/vmlinux" \
	-build-vmlinux "$build/build/vmlinux" -module "$case/mod/btfrecon_test.ko" \
	-objcopy "$objcopy" -out "$case"
"$kp/scripts/boot-test.sh" "$arch" "$image" "$case" "$mode" "$case/kfunc_call" "$busybox"
