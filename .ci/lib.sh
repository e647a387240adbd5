# shellcheck shell=bash
# Shared by the .ci/ job scripts: apt installs, the accelerator choice,
# where artifacts and the job summary go. Sourced, never run.

# The packages every tier needs on a fresh Debian 12 (what .ci/run installed
# before the jobs were split).
# shellcheck disable=SC2034 # used by the scripts that source this
CI_BASE_PKGS=(make gcc libc6-dev git xz-utils zstd cpio binutils dwarves
	linux-source-6.12 libelf-dev zlib1g-dev python3 bpftool ca-certificates)

ci_sudo() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

# ci_apt PKG...: install what is missing (apt-get update first, once).
ci_apt() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	echo "ci: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "${CI_APT_UPDATED:-}" ]; then
		ci_sudo apt-get update -q
		CI_APT_UPDATED=1
	fi
	ci_sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ci_qemu_pkgs ARCH: the Debian packages that boot an ARCH guest.
ci_qemu_pkgs() {
	case "$1" in
	amd64) echo qemu-system-x86 qemu-utils ;;
	arm64) echo qemu-system-arm ipxe-qemu qemu-utils ;;
	*)
		echo "ci: unknown guest arch $1 (amd64, arm64)" >&2
		return 2
		;;
	esac
}

# ci_host_arch: the host as a Debian/Go arch name.
ci_host_arch() {
	case "$(uname -m)" in
	x86_64) echo amd64 ;;
	aarch64 | arm64) echo arm64 ;;
	*) uname -m ;;
	esac
}

# ci_kvm_setup: on a runner (not in a container) /dev/kvm is root:kvm 0660;
# open it to the job's user with the udev rule BPF CI and vmtest use.
ci_kvm_setup() {
	[ -e /dev/kvm ] || return 0
	[ -r /dev/kvm ] && [ -w /dev/kvm ] && return 0
	command -v udevadm >/dev/null || return 0
	echo 'KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS+="static_node=kvm"' |
		ci_sudo tee /etc/udev/rules.d/99-kvm.rules >/dev/null
	ci_sudo udevadm control --reload-rules
	ci_sudo udevadm trigger --name-match=kvm
}

# ci_accel GUEST_ARCH: "auto" when a KVM boot is worth trying (same arch,
# /dev/kvm opens read-write; btfrecon still falls back to TCG on a broken
# nested KVM and the report says so), else "tcg". CI_ACCEL overrides.
# Why goes to stderr, so the job log says which and why.
ci_accel() {
	if [ -n "${CI_ACCEL:-}" ]; then
		echo "ci: accel $CI_ACCEL (CI_ACCEL)" >&2
		echo "$CI_ACCEL"
		return
	fi
	local host
	host=$(ci_host_arch)
	if [ "$1" != "$host" ]; then
		echo "ci: accel tcg: $1 guest on an $host host" >&2
		echo tcg
	elif [ ! -e /dev/kvm ]; then
		echo "ci: accel tcg: no /dev/kvm (a container needs --device /dev/kvm)" >&2
		echo tcg
	elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "ci: accel tcg: /dev/kvm is not read-write for $(id -un)" >&2
		echo tcg
	else
		echo "ci: accel auto: /dev/kvm usable, KVM first" >&2
		echo auto
	fi
}

# ci_artifacts: the directory uploaded as the job's artifact (made).
ci_artifacts() {
	local d=${CI_ARTIFACTS:-$PWD/ci-artifacts}
	mkdir -p "$d"
	(cd "$d" && pwd)
}

# ci_summary_file: where the Markdown job summary goes: GitHub's step
# summary, or a file under the artifacts when run by hand.
ci_summary_file() {
	if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
		echo "$GITHUB_STEP_SUMMARY"
	else
		echo "$(ci_artifacts)/summary.md"
	fi
}

# ci_go_check: Go is needed and not installed by apt (Debian 12's is too old).
ci_go_check() {
	command -v go >/dev/null || {
		echo "ci: no go in PATH (Go >= 1.26; actions/setup-go in CI)" >&2
		return 2
	}
	go version
}
