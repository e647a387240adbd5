#!/bin/bash
# build-kernel.sh SRC OUT FRAGMENT: configure (tinyconfig + FRAGMENT) and build
# bzImage, vmlinux and modules of the kernel tree SRC into OUT (O=). Writes
# OUT/.built with the build time on success.
set -euo pipefail
src=$1 out=$2 frag=$3
mkdir -p "$out"
start=$(date +%s)
make -s -C "$src" O="$out" tinyconfig
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
make -s -C "$src" O="$out" olddefconfig
# every line of the fragment must have survived olddefconfig
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) grep -qx "$line" "$out/.config" || { echo "build-kernel: $line did not survive olddefconfig" >&2; exit 1; } ;;
	esac
done < "$frag"
make -C "$src" O="$out" -j"$(nproc)" bzImage modules
end=$(date +%s)
echo "build-kernel: built in $((end - start)) s" | tee "$out/.built"
