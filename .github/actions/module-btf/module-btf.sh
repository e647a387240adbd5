#!/usr/bin/env bash
# Does an out-of-tree module keep its BTF on these kernels? Build it for
# kernel BUILD the way DKMS would on that Debian system (the suite's own
# gcc, pahole and kbuild: btfrecon module build --distiller real), then
# boot each RUN kernel with it loaded (btfrecon repro) and say, per kernel,
# what the kernel did with its BTF, what the model predicted, and why a
# refusal happened (the model's relocation explained: the distilled type
# and every candidate of the running kernel).
#
# usage: module-btf.sh --module DIR --build RELEASE --run "RELEASE..."
#                      (the run kernels separated by spaces, commas or newlines)
#                      [--arch amd64|arm64] [--accel auto|kvm|tcg]
#                      [--fail-on lost-btf|disagreement|never] [--out DIR]
#
# Writes into --out (default ./module-btf): the module (NAME.ko), one
# report per kernel (RELEASE.json, RELEASE.log, its console), build.log
# and summary.md, which also goes to $GITHUB_STEP_SUMMARY. Exit 0; 1 when
# --fail-on is met (default lost-btf: a kernel did not keep the BTF) or a
# kernel splatted; 2 bad usage or a build that failed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
# shellcheck source=.ci/lib.sh
. "$root/.ci/lib.sh"

usage() {
	sed -n '/^# usage:/,/^#$/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

module='' build='' runs='' arch=amd64 accel='' fail_on=lost-btf out=module-btf
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case $1 in
	--module) module=$2 ;;
	--build) build=$2 ;;
	--run) runs=$2 ;;
	--arch) arch=$2 ;;
	--accel) accel=$2 ;;
	--fail-on) fail_on=$2 ;;
	--out) out=$2 ;;
	*) usage ;;
	esac
	shift 2
done
if [ -z "$module" ] || [ -z "$build" ] || [ -z "$runs" ]; then
	usage
fi
[ -d "$module" ] || {
	echo "module-btf: --module $module: not a directory" >&2
	exit 2
}
case $fail_on in lost-btf | disagreement | never) ;; *) usage ;; esac
mapfile -t kernels < <(tr -s ', \t' '\n' <<<"$runs" | grep -v '^$')

read -r -a qemu <<<"$(ci_qemu_pkgs "$arch")"
ci_apt make git xz-utils zstd cpio binutils python3 ca-certificates debootstrap \
	debian-archive-keyring "${qemu[@]}"
ci_go_check
ci_kvm_setup
[ -n "$accel" ] || accel=$(ci_accel "$arch")

mkdir -p "$out"
out=$(cd "$out" && pwd)
module=$(cd "$module" && pwd)
name=$(basename "$module")
ko=$out/$name.ko
bin=$out/btfrecon
(cd "$root" && go build -o "$bin" ./cmd/btfrecon)
# The chroot builds need root; so does nothing else, but one user keeps
# the cache in one place.
as_root=()
[ "$(id -u)" = 0 ] ||
	as_root=(sudo -E env "PATH=$PATH" "BTFRECON_CACHE=${BTFRECON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/btfrecon}")
btfrecon() { BTFRECON_SRC=$root "${as_root[@]}" "$bin" "$@"; }

sum=$out/summary.md
: >"$sum"
echo "module-btf: building $module for $build ($arch) with the suite's own toolchain"
brc=0
btfrecon module build "$module" --kernel "$build" --arch "$arch" --distiller real -o "$ko" \
	2>&1 | tee "$out/build.log" || brc=${PIPESTATUS[0]}
# Exit 1: the build and the model's distillation differ; the module is
# the build's all the same.
if [ "$brc" -ge 2 ] || [ ! -s "$ko" ]; then
	{
		echo "### module BTF: $name built for $build ($arch): **build failed** (exit $brc)"
		echo
		echo '```text'
		tail -n 40 "$out/build.log"
		echo '```'
	} >>"$sum"
	[ -z "${GITHUB_STEP_SUMMARY:-}" ] || cat "$sum" >>"$GITHUB_STEP_SUMMARY"
	exit 2
fi
model_note="the model's distillation is byte-identical to the build's"
[ "$brc" = 0 ] || model_note="**the model's distillation differs from the build's** (build.log)"

# The explanation of a refusal: the model's relocation onto the running
# kernel's vmlinux BTF, which names the distilled type and every candidate.
explain() { # KERNEL
	local btf
	btf=$(btfrecon kernels fetch "$1" --arch "$arch" 2>/dev/null |
		sed -n 's/^ *vmlinux BTF .*(\(.*\))$/\1/p')
	[ -n "$btf" ] || return 0
	btfrecon relocate --ko "$ko" --target "$btf" 2>&1 | grep -v '^relocated' || true
}

rows=() details=() fail=0 splat=0
for k in "${kernels[@]}"; do
	j=$out/$k.json
	echo "module-btf: booting $k ($arch, accel $accel) with $name.ko"
	rrc=0
	btfrecon repro "$ko" --run "$k" --arch "$arch" --accel "$accel" --json \
		>"$j" 2> >(tee "$out/$k.log" >&2) || rrc=$?
	if [ ! -s "$j" ]; then
		rows+=("| $k | - | error (exit $rrc) | - | - | - | $(tail -n 1 "$out/$k.log" | tr '|' '/' | cut -c1-200) |")
		fail=1
		continue
	fi
	"$root/.ci/collect" "$j" "$out/$k" >/dev/null 2>&1 || true
	src=0
	section=$("$root/.ci/summary" "$j" 2>/dev/null) || src=$?
	[ "$src" = 1 ] && splat=1
	# The repro row: what the kernel did, what the model said, why.
	IFS=$'\t' read -r accel_used kernel predicted agree identical why < <(python3 - "$j" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
s = rep.get("summary") or {}
row = next((r for r in rep.get("modules") or [] if r.get("role") == "repro"), {})
why = [x for x in (row.get("reason"), row.get("load_error")) if x]
why += [l for l in row.get("kmsg") or [] if l not in why][:3]
clean = lambda v: " ".join(str(v).split()).replace("|", "/").replace("\t", " ")
print("\t".join(clean(v) or "-" for v in (
    s.get("accel", "?"), row.get("kernel", "not-run"), row.get("predicted", "?"),
    "yes" if row.get("agree") else "no", "yes" if row.get("identical") else "no",
    "; ".join(why)[:300])))
PY
	)
	verdict="keeps BTF"
	case $kernel in
	btf) ;;
	no-btf) verdict="**loads without BTF**" ;;
	*) verdict="**$kernel**" ;;
	esac
	rows+=("| $k | ${accel_used^^} | $verdict | $predicted | $agree | $identical | $why |")
	if [ "$kernel" != btf ] || [ "$predicted" != btf ]; then
		details+=("#### $k: why" "" '```text' "$(explain "$k")" '```' "")
	fi
	details+=("<details><summary>$k: the full report</summary>" "" "$section" "" "</details>" "")
	case $fail_on in
	lost-btf) [ "$kernel" = btf ] || fail=1 ;;
	disagreement) [ "$agree" = yes ] || fail=1 ;;
	esac
	[ "$rrc" -le 1 ] || fail=1
done

{
	echo "### module BTF: \`$name\` built for $build ($arch)"
	echo
	echo "built in $build's own Debian userland (btfrecon module build --distiller real); $model_note"
	echo
	echo "| kernel | accel | kernel did | model predicted | agree | identical | why |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo
	printf '%s\n' "${details[@]}"
} >>"$sum"
[ -z "${GITHUB_STEP_SUMMARY:-}" ] || cat "$sum" >>"$GITHUB_STEP_SUMMARY"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	{
		echo "report-dir=$out"
		echo "module=$ko"
		echo "failed=$([ "$fail" = 0 ] && [ "$splat" = 0 ] && echo false || echo true)"
	} >>"$GITHUB_OUTPUT"
fi
cat "$sum"
[ "$splat" = 0 ] || echo "module-btf: a kernel splatted (see the summary)" >&2
[ "$fail" = 0 ] && [ "$splat" = 0 ]
