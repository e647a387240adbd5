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
	# A private apt configuration (the host's may know no arm64 packages;
	# /etc/apt is never touched): bookworm and its security suite, both
	# architectures.
	apt=$dir/apt
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
	key=/usr/share/keyrings/debian-archive-keyring.gpg
	cat > "$apt/sources.list" <<-EOF
	deb [signed-by=$key arch=amd64,arm64] http://deb.debian.org/debian bookworm main
	deb [signed-by=$key arch=amd64,arm64] http://deb.debian.org/debian-security bookworm-security main
	EOF
	touch "$apt/status"
	opts=(-o Dir::Etc::sourcelist="$apt/sources.list" -o Dir::Etc::sourceparts=/dev/null
		-o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts=/dev/null
		-o Dir::State::Lists="$apt/lists" -o Dir::State::status="$apt/status"
		-o Dir::Cache="$apt/cache" -o APT::Architecture=amd64
		-o APT::Architectures::=amd64 -o APT::Architectures::=arm64 -o Acquire::Languages=none
		-o APT::Sandbox::User=root)
	apt-get "${opts[@]}" -qq update >&2 ||
		{ echo "debian-configs: apt-get update of bookworm (private configuration $apt) failed" >&2; exit 1; }
	for a in amd64 arm64; do
		(cd "$out/debs" && apt-get "${opts[@]}" download -qq "linux-config-6.1:$a=$v" >&2) ||
			{ echo "debian-configs: cannot download linux-config-6.1:$a=$v from bookworm or bookworm-security" >&2; exit 1; }
	done
	for d in "$out"/debs/*.deb; do dpkg-deb -x "$d" "$out/x"; done
	for c in amd64_none_amd64 arm64_none_arm64; do
		xz -dc "$out/x/usr/src/linux-config-6.1/config.$c.xz" > "$out/config.$c"
	done
	touch "$out/.complete"
fi
echo "$out/config.amd64_none_amd64"
echo "$out/config.arm64_none_arm64"
