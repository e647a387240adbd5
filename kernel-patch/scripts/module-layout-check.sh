#!/bin/bash
# module-layout-check.sh PRISTINE WORK KP_DIR CONFIG...: prove that the series
# leaves struct module's ABI alone. An out-of-tree module built against the
# headers of the unpatched kernel must keep working on the patched one: every
# member it knows must stay at its offset with its size, sizeof(struct module)
# must not change (the loader uses the module's own .gnu.linkonce.this_module
# copy, which is sizeof(struct module) of the headers it was built against),
# and with CONFIG_MODVERSIONS the CRC of module_layout must not change either.
#
# For each CONFIG, the unpatched tree (PRISTINE's HEAD) and the patched one
# (KP_DIR/series applied) are configured alike and kernel/module/main.o (and,
# with MODVERSIONS, kernel/module/version.o) is built with debug info; pahole
# reads struct module from the DWARF of main.o. A CONFIG is
# ARCH:NAME:FILE[+FILE..][:sizeof-may-grow]: either a whole .config (Debian's,
# from linux-config-6.1) or fragments merged onto tinyconfig, as
# build-kernel.sh does (a file with more than 1000 option lines is taken as a
# whole .config). With sizeof-may-grow, a config whose struct module has too
# little tail padding for the new members may grow it: there the loader
# refuses a module built against the unpatched headers (its
# .gnu.linkonce.this_module is too small) instead of writing past it; the
# offsets and the CRC must hold all the same. Prints one line per config and
# exits non-zero if any check fails. WORK holds the trees and builds (reused).
set -euo pipefail
pristine=$1 work=$2 kp=$(realpath "$3")
shift 3
mkdir -p "$work"
work=$(realpath "$work")

# The two trees: worktrees of the pristine repository, the series applied on one.
series_key=$( (cat "$kp/series/series"; for p in $(grep -v '^\(#\|$\)' "$kp/series/series"); do
	sed -n '/^diff --git /,/^-- $/p' "$kp/series/$p"; done) | sha256sum | cut -c1-12)
unpatched=$work/unpatched patched=$work/patched-$series_key
if [ ! -f "$unpatched/.ready" ]; then
	rm -rf "$unpatched"
	git -C "$pristine" worktree prune
	git -C "$pristine" worktree add -q --detach "$unpatched" HEAD
	touch "$unpatched/.ready"
fi
if [ ! -f "$patched/.ready" ]; then
	"$kp/scripts/apply-series.sh" "$pristine" "$patched" "$kp/series" >/dev/null
	touch "$patched/.ready"
fi

# members FILE: "name offset size" for each member of struct module, then
# "sizeof N", from pahole's output for FILE.
members() {
	pahole -C module "$1" | awk '
	/^struct module \{/ { on = 1; next }
	on && /^\}/ { if (match($0, /size: [0-9]+/)) {} ; exit }
	on && /^\t[^\t\/]/ && /;[ \t]*\/\*/ {
		line = $0
		c = line; sub(/.*\/\*[ \t]*/, "", c); sub(/[ \t]*\*\/.*/, "", c)
		n = split(c, f, /[ \t:]+/)   # "off size" or "off: bit size"
		off = f[1]; size = f[n]
		d = line; sub(/;[ \t]*\/\*.*/, "", d)
		gsub(/__attribute__\(\([^)]*\)*\)\)/, "", d)
		if (match(d, /\(\*[ \t]*[A-Za-z_][A-Za-z0-9_]*\)/)) {
			name = substr(d, RSTART + 2, RLENGTH - 3); gsub(/[ \t*]/, "", name)
		} else {
			sub(/(\[[^]]*\])+[ \t]*$/, "", d); sub(/[ \t]+$/, "", d)
			match(d, /[A-Za-z_][A-Za-z0-9_]*$/); name = substr(d, RSTART, RLENGTH)
		}
		print name, off, size
	}'
	pahole -C module "$1" | sed -n 's|.*/\* size: \([0-9]*\),.*|sizeof \1|p' | tail -1
}

fail=0
for spec in "$@"; do
	IFS=: read -r arch name files grow <<<"$spec"
	case "$arch" in
	x86_64) mk=(ARCH=x86_64) ;;
	arm64) mk=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) ;;
	*) echo "module-layout-check: unknown arch $arch" >&2; exit 2 ;;
	esac
	IFS=+ read -r -a frags <<<"$files"
	for tree in unpatched patched; do
		src=${!tree} out=$work/$name-$tree
		[ "$tree" = unpatched ] || out=$work/$name-patched-$series_key
		if [ ! -f "$out/.layout-done" ]; then
			rm -rf "$out"; mkdir -p "$out"
			{
				if [ "${#frags[@]}" = 1 ] && [ "$(grep -c '^CONFIG_' "${frags[0]}")" -gt 1000 ]; then
					cp "${frags[0]}" "$out/.config"
				else
					make -s -C "$src" O="$out" "${mk[@]}" tinyconfig
					"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}"
				fi
				# DWARF for pahole, whatever the config says about debug info
				"$src/scripts/config" --file "$out/.config" -d DEBUG_INFO_NONE -e DEBUG_INFO \
					-e DEBUG_INFO_DWARF4 -d DEBUG_INFO_REDUCED -d DEBUG_INFO_SPLIT -d DEBUG_INFO_COMPRESSED
				make -s -C "$src" O="$out" "${mk[@]}" olddefconfig
				make -s -C "$src" O="$out" "${mk[@]}" -j"$(nproc)" prepare
				make -s -C "$src" O="$out" "${mk[@]}" kernel/module/main.o
				if grep -q '^CONFIG_MODVERSIONS=y' "$out/.config"; then
					make -s -C "$src" O="$out" "${mk[@]}" kernel/module/version.o
				fi
			} > "$out/layout.log" 2>&1 || { echo "module-layout-check: $name ($tree) did not build:"; tail -20 "$out/layout.log"; exit 1; }
			touch "$out/.layout-done"
		fi
		members "$out/kernel/module/main.o" > "$out/members.txt"
		crc=-
		if [ -f "$out/kernel/module/.version.o.cmd" ]; then
			crc=$(sed -n 's/^#SYMVER module_layout \(0x[0-9a-f]*\)$/\1/p' "$out/kernel/module/.version.o.cmd")
			[ -n "$crc" ] || crc=missing
		fi
		echo "$crc" > "$out/crc.txt"
		printf -v "dir_$tree" '%s' "$out"
	done
	a=$dir_unpatched/members.txt b=$dir_patched/members.txt
	nmem=$(grep -vc '^sizeof ' "$a")
	bad=$(awk 'NR == FNR { if ($1 != "sizeof") m[$1] = $2 " " $3; next }
		$1 != "sizeof" && ($1 in m) { seen[$1] = 1; if (m[$1] != $2 " " $3) print $1 ": " m[$1] " -> " $2 " " $3 }
		END { for (k in m) if (!(k in seen)) print k ": gone" }' "$a" "$b")
	# the new members: after the last old member
	last_old=$(grep -v '^sizeof ' "$a" | awk '{ e = $2 + $3; if (e > m) m = e } END { print m }')
	new=$(awk 'NR == FNR { if ($1 != "sizeof") m[$1] = 1; next } $1 != "sizeof" && !($1 in m)' "$a" "$b")
	early=$(echo "$new" | awk -v l="$last_old" 'NF && $2 < l')
	sa=$(sed -n 's/^sizeof //p' "$a") sb=$(sed -n 's/^sizeof //p' "$b")
	ca=$(cat "$dir_unpatched/crc.txt") cb=$(cat "$dir_patched/crc.txt")
	newtxt=$(echo "$new" | awk 'NF { printf "%s%s@%s+%s", sep, $1, $2, $3; sep = ", " }')
	problems=
	[ -z "$bad" ] || problems+=" moved: $(echo "$bad" | tr '\n' ';')"
	[ -z "$early" ] || problems+=" new member before the end: $(echo "$early" | tr '\n' ';')"
	size="sizeof $sa"
	if [ -z "$sa" ] || [ -z "$sb" ]; then
		problems+=" sizeof not read"
	elif [ "$sa" != "$sb" ]; then
		if [ "$grow" = sizeof-may-grow ]; then
			size="sizeof $sa -> $sb (tail padding $((sa - last_old)) bytes: a module built against the unpatched headers is refused, -ENOEXEC)"
		else
			problems+=" sizeof $sa -> $sb"
		fi
	else
		size="sizeof $sa unchanged (tail padding $((sa - last_old)) bytes)"
	fi
	[ "$ca" = "$cb" ] && [ "$ca" != missing ] || problems+=" module_layout CRC $ca -> $cb"
	[ "$nmem" -gt 20 ] || problems+=" only $nmem members read"
	if [ -z "$problems" ]; then
		echo "PASS $name ($arch): $nmem members keep offset and size; $size; old members end at $last_old; new: ${newtxt:-none}; module_layout CRC ${ca/-/n\/a (no MODVERSIONS)}"
	else
		echo "FAIL $name ($arch):$problems"
		fail=1
	fi
	cp "$a" "$work/$name.unpatched.members"; cp "$b" "$work/$name.patched.members"
done
exit $fail
