#!/bin/bash
# build-kernel.sh SRC OUT ARCH FRAGMENT...: configure (tinyconfig + the
# fragments, later ones winning) and build the boot image, vmlinux and modules
# of the kernel tree SRC into OUT (O=). ARCH is x86_64 (bzImage) or arm64
# (Image, cross-built with aarch64-linux-gnu-). Writes OUT/.built with the
# build time on success.
set -euo pipefail
src=$1 out=$2 arch=$3
shift 3
case "$arch" in
x86_64) mk=(ARCH=x86_64) image=bzImage ;;
arm64) mk=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) image=Image ;;
*) echo "build-kernel: unknown arch $arch" >&2; exit 1 ;;
esac
mkdir -p "$out"
start=$(date +%s)
make -s -C "$src" O="$out" "${mk[@]}" tinyconfig
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$@" >/dev/null
make -s -C "$src" O="$out" "${mk[@]}" olddefconfig
# every option line of the fragments must have survived olddefconfig (the
# last fragment setting an option wins)
declare -A want=()
for frag in "$@"; do
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) want[${line%%=*}]=$line ;;
		'# CONFIG_'*' is not set') o=${line#\# }; want[${o%% *}]=$line ;;
		esac
	done < "$frag"
done
for o in "${!want[@]}"; do
	line=${want[$o]}
	case "$line" in
	'#'*) ! grep -q "^$o=" "$out/.config" || { echo "build-kernel: $o is set, the fragments unset it" >&2; exit 1; } ;;
	*) grep -qx "$line" "$out/.config" || { echo "build-kernel: $line did not survive olddefconfig" >&2; exit 1; } ;;
	esac
done
[ -z "${CONFIG_ONLY:-}" ] || { echo "build-kernel: $arch config OK"; exit 0; }
make -C "$src" O="$out" "${mk[@]}" -j"$(nproc)" "$image" modules
end=$(date +%s)
echo "build-kernel: $arch built in $((end - start)) s" | tee "$out/.built"
