#!/bin/bash
# boot-test.sh ARCH IMAGE CASEDIR MODE KFUNC_CALL BUSYBOX: boot the patched
# kernel IMAGE (x86_64 bzImage or arm64 Image) under QEMU (TCG) with a busybox
# initramfs that loads each module variant of CASEDIR (made by
# cmd/vmcase, listed in CASEDIR/cases.txt), compares
# /sys/kernel/btf/btfrecon_test with the model's relocation, and calls the
# module's kfunc from a BPF program (KFUNC_CALL, a static binary).
#
# MODE is the kernel's CONFIG_MODULE_ALLOW_BTF_MISMATCH: "refuse" (=n: a
# module whose BTF cannot be relocated fails to load) or "allow" (=y: it loads
# without BTF, and no per-type verifier message is printed).
# Prints one VERDICT line per check and exits non-zero if any failed.
set -euo pipefail
arch=$1 kernel=$2 dir=$(realpath "$3") mode=$4 kfunc_call=$5 busybox=$6
root=$dir/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,proc,sys,dev,mods,tmp}
cp "$busybox" "$root/bin/busybox"
cp "$kfunc_call" "$root/bin/kfunc_call"
cp "$dir"/*.ko "$root/mods/"
read -r size sum kid karg kret < "$dir/expected.txt"
{
	cat <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
try() { # variant
	echo "CASE $1"
	if insmod /mods/$1.ko 2>/tmp/err; then
		echo "RESULT $1 loaded"
		if [ -e /sys/kernel/btf/btfrecon_test ]; then
			echo "BTF $1 $(wc -c < /sys/kernel/btf/btfrecon_test) $(sha256sum /sys/kernel/btf/btfrecon_test | cut -d' ' -f1)"
		else
			echo "BTF $1 none"
		fi
INIT
	echo "		kfunc_call btfrecon_test $kid $karg | sed \"s/^KFUNC btfrecon_test/KFUNC \$1/\""
	cat <<'INIT'
		rmmod btfrecon_test
	else
		echo "RESULT $1 refused: $(cat /tmp/err)"
	fi
}
INIT
	for c in $(cut -d' ' -f1 "$dir/cases.txt") good; do echo "try $c"; done
	echo 'echo "VMDONE"'
	echo 'reboot -f'
} > "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$dir/initramfs.cpio.gz"

case "$arch" in
# no_timer_check: on a loaded host, TCG can be slow enough for the x86 IO-APIC
# timer check to panic the boot ("IO-APIC + timer doesn't work!")
x86_64) qemu=(qemu-system-x86_64 -accel tcg) append="console=ttyS0 no_timer_check" ;;
arm64) qemu=(qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -accel tcg) append="console=ttyAMA0" ;;
*) echo "boot-test: unknown arch $arch" >&2; exit 1 ;;
esac
start=$(date +%s.%N)
timeout 300 "${qemu[@]}" -m 512M -smp 1 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$dir/initramfs.cpio.gz" \
	-append "$append panic=-1 loglevel=5" > "$dir/console.log" 2>&1 || true
end=$(date +%s.%N)
tr -d '\r' < "$dir/console.log" > "$dir/console.txt"
echo "boot-test: $arch QEMU (tcg) ran $(echo "$end - $start" | bc) s (boot, $(grep -c '^CASE' "$dir/console.txt") module loads, power off)"
grep -E '^(CASE|RESULT|BTF|KFUNC|VMDONE)|BTF:|BPF:|btfrecon|failed to validate|mismatch|Call Trace|BUG|Oops|Unable to handle' "$dir/console.txt" | grep -v '^\s*$' || true

fail=0
verdict() { # PASS|FAIL text
	echo "VERDICT $1 $2"
	[ "$1" = PASS ] || fail=1
}
# the console lines of case $1 (its first run)
case_log() { awk -v c="$1" '/^CASE /{ if (on) exit; if ($2 == c) on = 1 } on' "$dir/console.txt"; }
# Per-type verifier messages: everything the BTF checks log ("BPF: ...")
# except the meta check's "[id] Invalid name_offset", which goes through plain
# btf_verifier_log() and is printed with MODULE_ALLOW_BTF_MISMATCH=y by 6.12
# as well.
per_type=$(grep '^BPF: ' "$dir/console.txt" | grep -vc '^BPF: \[[0-9]*\] Invalid name_offset' || true)
name_off=$(grep -c '^BPF: \[[0-9]*\] Invalid name_offset' "$dir/console.txt" || true)
while read -r name expect what; do
	log=$(case_log "$name")
	res=$(echo "$log" | grep -m1 "^RESULT $name" | cut -d' ' -f3- || true)
	btf=$(echo "$log" | grep -m1 "^BTF $name" | cut -d' ' -f3- || true)
	kf=$(echo "$log" | grep -m1 "^KFUNC $name" | cut -d' ' -f3- || true)
	msg=$(echo "$log" | grep -m1 -E 'BTF: |failed to validate' | sed 's/^\[[ 0-9.]*\] //' || true)
	case "$expect" in
	good)
		if [ "$res" = loaded ] && [ "$btf" = "$size $sum" ] && [ "$kf" = "retval $kret" ]; then
			verdict PASS "$name ($what): /sys/kernel/btf/btfrecon_test == model ($size bytes, sha256 ${sum:0:16}); kfunc [$kid]($karg) = $kret"
		else
			verdict FAIL "$name ($what): $res; BTF $btf; kfunc $kf"
		fi ;;
	stale)
		if [ "$btf" = "$size $sum" ]; then
			verdict FAIL "$name ($what) got the right BTF without .BTF.base: the scenario shows nothing"
		elif [ "$mode" = allow ] && [ "$res" != loaded ]; then
			verdict FAIL "$name ($what): $res (MODULE_ALLOW_BTF_MISMATCH=y must load it)"
		else
			verdict PASS "$name ($what): $res${btf:+, BTF $btf}${msg:+ [$msg]}"
		fi ;;
	staleids)
		if [ "$res" = loaded ] && [ "$btf" = "$size $sum" ] && [ "${kf%%:*}" = refused ]; then
			verdict PASS "$name ($what): BTF relocated, kfunc call refused by the verifier"
		else
			verdict FAIL "$name ($what): $res; BTF $btf; kfunc $kf"
		fi ;;
	refuse)
		if [ "$mode" = refuse ] && [ "${res%%:*}" = refused ] && [ -n "$msg" ]; then
			verdict PASS "$name ($what): refused [$msg]"
		elif [ "$mode" = allow ] && [ "$res" = loaded ] && [ "$btf" = none ]; then
			verdict PASS "$name ($what): loaded without BTF${msg:+ [$msg]}"
		else
			verdict FAIL "$name ($what): $res; BTF $btf; ${msg:-no message}"
		fi ;;
	esac
done < "$dir/cases.txt"
last=$(awk '/^CASE good/{n++} n==2' "$dir/console.txt")
if echo "$last" | grep -q "^BTF good $size $sum" && echo "$last" | grep -q "^KFUNC good retval $kret"; then
	verdict PASS "good again after every other case: same BTF, kfunc works"
else
	verdict FAIL "good again after every other case"
fi
if [ "$mode" = allow ]; then
	once=$(grep -c 'Kernel module BTF mismatch detected' "$dir/console.txt" || true)
	if [ "$per_type" = 0 ] && [ "$once" = 1 ]; then
		verdict PASS "MODULE_ALLOW_BTF_MISMATCH=y: no per-type 'BPF:' verifier message, one mismatch notice"
	else
		verdict FAIL "MODULE_ALLOW_BTF_MISMATCH=y: $per_type per-type 'BPF:' messages, $once mismatch notices"
	fi
	echo "boot-test: $name_off 'Invalid name_offset' message(s) (not per-type: 6.12 prints them too)"
else
	echo "boot-test: $per_type per-type and $name_off 'Invalid name_offset' 'BPF:' verifier message(s) (MODULE_ALLOW_BTF_MISMATCH=n prints them)"
fi
if grep -q '^VMDONE' "$dir/console.txt" && ! grep -qE 'Call Trace|Oops|BUG:|Unable to handle|Kernel panic' "$dir/console.txt"; then
	verdict PASS "kernel survived every case (no oops)"
else
	verdict FAIL "kernel oopsed or did not finish"
fi
exit $fail
