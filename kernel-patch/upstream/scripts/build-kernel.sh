#!/bin/bash
# build-kernel.sh SRC OUT PAHOLE FRAGMENT: configure (tinyconfig + FRAGMENT)
# and build bzImage, vmlinux and modules of the x86_64 kernel tree SRC into
# OUT (O=), with PAHOLE as kbuild's pahole (>= 1.26 gives modules a
# distilled .BTF.base). Every option line of FRAGMENT must survive
# olddefconfig. Writes OUT/.built (the build time) on success.
set -euo pipefail
src=$1 out=$2 pahole=$3 frag=$4
mk=(ARCH=x86_64 PAHOLE="$pahole")
mkdir -p "$out"
start=$(date +%s)
make -s -C "$src" O="$out" "${mk[@]}" tinyconfig
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
make -s -C "$src" O="$out" "${mk[@]}" olddefconfig
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) grep -qx "$line" "$out/.config" || { echo "build-kernel: $line did not survive olddefconfig" >&2; bad=1; } ;;
	'# CONFIG_'*' is not set') o=${line#\# }; o=${o%% *}
		! grep -q "^$o=" "$out/.config" || { echo "build-kernel: $o is set" >&2; bad=1; } ;;
	esac
done < "$frag"
[ "$bad" = 0 ] || exit 1
echo "build-kernel: pahole $("$pahole" --version), CONFIG_PAHOLE_VERSION=$(sed -n 's/^CONFIG_PAHOLE_VERSION=//p' "$out/.config")"
make -C "$src" O="$out" "${mk[@]}" -j"$(nproc)" bzImage modules
echo "build-kernel: built in $(($(date +%s) - start)) s" | tee "$out/.built"
