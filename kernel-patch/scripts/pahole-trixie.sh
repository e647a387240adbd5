#!/bin/bash
# pahole-trixie.sh DIR: a real pahole >= 1.28 for this Debian 12 machine:
# Debian trixie's pahole 1.30, run from an extracted trixie libc and libraries
# through trixie's ld-linux (it needs glibc 2.38; bookworm has 2.36). The
# .debs come from trixie with a private apt configuration under DIR/apt
# (/etc/apt is never touched; apt checks them against the signed indexes).
# Done once; prints the path of the wrapper, DIR/bin/pahole, which kbuild
# takes as PAHOLE=.
set -euo pipefail
dir=$1
mkdir -p "$dir"
dir=$(realpath "$dir")
wrapper=$dir/bin/pahole
want=v1.30
if [ -x "$wrapper" ] && [ "$("$wrapper" --version 2>/dev/null)" = "$want" ]; then
	echo "$wrapper"
	exit 0
fi
pkgs="pahole libbpf1 libc6 libgcc-s1 libdw1t64 libelf1t64 zlib1g libzstd1 liblzma5 libbz2-1.0"
apt=$dir/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dir/debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg arch=amd64] http://deb.debian.org/debian trixie main" > "$apt/sources.list"
touch "$apt/status"
opts=(-o Dir::Etc::sourcelist="$apt/sources.list" -o Dir::Etc::sourceparts=/dev/null
	-o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts=/dev/null
	-o Dir::State::Lists="$apt/lists" -o Dir::State::status="$apt/status"
	-o Dir::Cache="$apt/cache" -o APT::Architecture=amd64 -o APT::Architectures::=amd64
	-o Acquire::Languages=none)
echo "pahole-trixie: fetching $pkgs from trixie (private apt configuration $apt)" >&2
apt-get "${opts[@]}" -qq update >&2
(cd "$dir/debs" && rm -f ./*.deb && apt-get "${opts[@]}" -qq download $pkgs >&2)
root=$dir/root
rm -rf "$root"
mkdir -p "$root"
for d in "$dir"/debs/*.deb; do dpkg-deb -x "$d" "$root"; done
ld=$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
[ -e "$ld" ] || ld=$root/lib64/ld-linux-x86-64.so.2
mkdir -p "$dir/bin"
cat > "$wrapper.tmp" <<EOF
#!/bin/sh
# Debian trixie's pahole through trixie's dynamic loader and libraries
# (made by kernel-patch/scripts/pahole-trixie.sh)
exec "$ld" --library-path "$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu" "$root/usr/bin/pahole" "\$@"
EOF
chmod +x "$wrapper.tmp"
mv "$wrapper.tmp" "$wrapper"
got=$("$wrapper" --version)
[ "$got" = "$want" ] || { echo "pahole-trixie: $wrapper --version says '$got', want $want" >&2; exit 1; }
echo "$wrapper"
