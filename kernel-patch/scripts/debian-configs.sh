#!/bin/bash
# debian-configs.sh DIR VERSION: Debian's own kernel configurations for
# linux-source-6.1 VERSION (the linux-config-6.1 package of that version, for
# amd64 and arm64), extracted into DIR once. Prints the two config files
# (amd64, then arm64).
set -euo pipefail
dir=$1 v=$2
out=$dir/$v
if [ ! -f "$out/.complete" ]; then
	rm -rf "$out"
	mkdir -p "$out/debs"
	for a in amd64 arm64; do
		(cd "$out/debs" && apt-get download -qq "linux-config-6.1:$a=$v" 2>/dev/null) ||
			{ echo "debian-configs: cannot download linux-config-6.1:$a=$v (apt-get update?)" >&2; exit 1; }
	done
	for d in "$out"/debs/*.deb; do dpkg-deb -x "$d" "$out/x"; done
	for c in amd64_none_amd64 arm64_none_arm64; do
		xz -dc "$out/x/usr/src/linux-config-6.1/config.$c.xz" > "$out/config.$c"
	done
	touch "$out/.complete"
fi
echo "$out/config.amd64_none_amd64"
echo "$out/config.arm64_none_arm64"
