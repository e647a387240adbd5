#!/bin/bash
# boot-test.sh ARCH IMAGE CASEDIR MODE KFUNC_CALL BUSYBOX: boot the patched
# kernel IMAGE (x86_64 bzImage or arm64 Image) under QEMU (TCG) with a busybox
# initramfs that loads each module variant of CASEDIR (made by cmd/vmcase,
# listed in CASEDIR/cases.txt as "<variant> <expectation> <arg> <what>"),
# compares /sys/kernel/btf/btfrecon_test with what it must be
# (CASEDIR/<variant>.expected), calls the module's kfunc from a BPF program
# (KFUNC_CALL, a static binary), and checks each refusal's errno. Then the
# good variants and a refused one are loaded and unloaded LOOPS times (env,
# default 10) and, on a kernel with kmemleak, no leak may be suspected; on a
# kernel with KASAN, no report may appear.
#
# MODE is the kernel's CONFIG_MODULE_ALLOW_BTF_MISMATCH: "refuse" (=n: a
# module whose BTF cannot be relocated fails to load, and the kernel says
# "failed to validate module [btfrecon_test] BTF: <errno>") or "allow" (=y:
# it loads without BTF, and no per-type verifier message is printed).
# Prints one VERDICT line per check and exits non-zero if any failed.
set -euo pipefail
arch=$1 kernel=$2 dir=$(realpath "$3") mode=$4 kfunc_call=$5 busybox=$6
loops=${LOOPS:-10}
root=$dir/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,proc,sys,dev,mods,tmp}
cp "$busybox" "$root/bin/busybox"
cp "$kfunc_call" "$root/bin/kfunc_call"
cp "$dir"/*.ko "$root/mods/"
read -r gsize gsum gkid karg kret < "$dir/good.expected"
# the kfunc id to call for a variant: its own where it has one, else good's
kid_of() { if [ -f "$dir/$1.expected" ]; then cut -d' ' -f3 "$dir/$1.expected"; else echo "$gkid"; fi; }
variants=$(cut -d' ' -f1 "$dir/cases.txt")
# the variants of the load/unload loop: every one that loads with BTF, and a
# refused one (its error path)
loop_vars=$(awk '$2 == "good" || $2 == "badids" { print $1 }' "$dir/cases.txt" | tr '\n' ' ')
loop_vars="$loop_vars$(awk '$2 == "refuse" { print $1; exit }' "$dir/cases.txt")"
{
	cat <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# boot messages below the console's loglevel say what the kernel has
dmesg | grep -m1 -E 'KernelAddressSanitizer initialized' | sed 's/^/HAS KASAN /'
dmesg | grep -m1 -E 'kmemleak: Kernel memory leak detector initialized' | sed 's/^/HAS KMEMLEAK /'
try() { # variant kfunc-id
	echo "CASE $1"
	dmesg -c >/dev/null
	if insmod /mods/$1.ko 2>/tmp/err; then
		echo "RESULT $1 loaded"
		if [ -e /sys/kernel/btf/btfrecon_test ]; then
			echo "BTF $1 $(wc -c < /sys/kernel/btf/btfrecon_test) $(sha256sum /sys/kernel/btf/btfrecon_test | cut -d' ' -f1)"
		else
			echo "BTF $1 none"
		fi
INIT
	echo "		kfunc_call btfrecon_test \$2 $karg | sed \"s/^KFUNC btfrecon_test/KFUNC \$1/\""
	cat <<'INIT'
		rmmod btfrecon_test && echo "UNLOAD $1 ok" || echo "UNLOAD $1 failed"
	else
		echo "RESULT $1 refused: $(cat /tmp/err)"
	fi
	dmesg -c | sed "s/^/KMSG $1 /"
}
INIT
	for c in $variants good; do echo "try $c $(kid_of "$c")"; done
	cat <<INIT
echo "LOOP start"
[ -e /sys/kernel/debug/kmemleak ] && { echo scan > /sys/kernel/debug/kmemleak; echo clear > /sys/kernel/debug/kmemleak; }
i=0 fails=0
while [ \$i -lt $loops ]; do
	for v in $loop_vars; do
		if insmod /mods/\$v.ko 2>/dev/null; then
			rmmod btfrecon_test || fails=\$((fails + 1))
		fi
	done
	# good must come back with its BTF every time
	insmod /mods/good.ko && [ "\$(sha256sum /sys/kernel/btf/btfrecon_test | cut -d' ' -f1)" = "$gsum" ] || fails=\$((fails + 1))
	rmmod btfrecon_test 2>/dev/null
	i=\$((i + 1))
done
echo "LOOP done \$i \$fails"
if [ -e /sys/kernel/debug/kmemleak ]; then
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak > /tmp/leaks
	echo "KMEMLEAK \$(grep -c '^unreferenced object' /tmp/leaks)"
	head -80 /tmp/leaks | sed 's/^/LEAK /'
else
	echo "KMEMLEAK n/a"
fi
echo "VMDONE"
reboot -f
INIT
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
timeout "${BOOT_TIMEOUT:-900}" "${qemu[@]}" -m 1G -smp 1 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$dir/initramfs.cpio.gz" \
	-append "$append panic=-1 loglevel=5" > "$dir/console.log" 2>&1 || true
end=$(date +%s.%N)
tr -d '\r' < "$dir/console.log" > "$dir/console.txt"
kasan=no kmemleak=no
grep -q '^HAS KASAN ' "$dir/console.txt" && kasan=yes
grep -q '^KMEMLEAK [0-9]' "$dir/console.txt" && kmemleak=yes
echo "boot-test: $arch QEMU (tcg) ran $(echo "$end - $start" | bc) s (boot, $(grep -c '^CASE' "$dir/console.txt") module loads + $loops x ($(echo "$loop_vars" | wc -w) + 1) in the loop, power off; KASAN $kasan, kmemleak $kmemleak)"
grep -E '^(HAS|CASE|RESULT|BTF|KFUNC|LOOP|KMEMLEAK|VMDONE)|^KMSG .*(BTF|btfrecon|failed to validate|mismatch|kfunc)|BUG|Oops|Unable to handle|KASAN' "$dir/console.txt" | grep -v '^\s*$' || true

fail=0
verdict() { # PASS|FAIL text
	echo "VERDICT $1 $2"
	[ "$1" = PASS ] || fail=1
}
# the console lines of case $1 (its first run)
case_log() { awk -v c="$1" '/^CASE /{ if (on) exit; if ($2 == c) on = 1 } /^LOOP start/{ if (on) exit } on' "$dir/console.txt"; }
# Per-type verifier messages: everything the BTF checks log ("BPF: ...")
# except the meta check's "[id] Invalid name_offset", which goes through plain
# btf_verifier_log() and is printed with MODULE_ALLOW_BTF_MISMATCH=y by 6.12
# as well.
per_type=$(grep '^BPF: ' "$dir/console.txt" | grep -vc '^BPF: \[[0-9]*\] Invalid name_offset' || true)
name_off=$(grep -c '^BPF: \[[0-9]*\] Invalid name_offset' "$dir/console.txt" || true)
while read -r name expect arg what; do
	log=$(case_log "$name")
	res=$(echo "$log" | grep -m1 "^RESULT $name" | cut -d' ' -f3- || true)
	btf=$(echo "$log" | grep -m1 "^BTF $name" | cut -d' ' -f3- || true)
	kf=$(echo "$log" | grep -m1 "^KFUNC $name" | cut -d' ' -f3- || true)
	kmsg=$(echo "$log" | sed -n "s/^KMSG $name \(\[[ 0-9.]*\] \)\{0,1\}//p")
	init=$(echo "$kmsg" | grep -m1 '^btfrecon_test: loaded' | sed 's/^btfrecon_test: loaded, //' || true)
	msg=$(echo "$kmsg" | grep -m1 -E 'BTF: |failed to validate' || true)
	want_size=$gsize want_sum=$gsum want_ret=$kret
	[ -f "$dir/$name.expected" ] && read -r want_size want_sum _ _ want_ret < "$dir/$name.expected"
	case "$expect" in
	good)
		if [ "$res" = loaded ] && [ "$btf" = "$want_size $want_sum" ] && [ "$kf" = "retval $want_ret" ] &&
			[ "$init" = "kfunc set registered: 0, dtor registered: 0" ]; then
			verdict PASS "$name ($what): /sys/kernel/btf/btfrecon_test as expected ($want_size bytes, sha256 ${want_sum:0:16}); kfunc [$(kid_of "$name")]($karg) = $want_ret; $init"
		else
			verdict FAIL "$name ($what): $res; BTF $btf (want $want_size $want_sum); kfunc $kf; init: ${init:-none}"
		fi ;;
	stale)
		if [ "$btf" = "$gsize $gsum" ]; then
			verdict FAIL "$name ($what) got the right BTF without .BTF.base: the scenario shows nothing"
		elif [ "$mode" = allow ] && [ "$res" != loaded ]; then
			verdict FAIL "$name ($what): $res (MODULE_ALLOW_BTF_MISMATCH=y must load it)"
		else
			verdict PASS "$name ($what): $res${btf:+, BTF $btf}${msg:+ [$msg]}"
		fi ;;
	staleids)
		if [ "$res" = loaded ] && [ "$btf" = "$gsize $gsum" ] && [ "${kf%%:*}" = refused ]; then
			verdict PASS "$name ($what): BTF relocated, kfunc call refused by the verifier; ${init:-no init message}"
		else
			verdict FAIL "$name ($what): $res; BTF $btf; kfunc $kf"
		fi ;;
	badids)
		# btf_relocate_id() refuses the id: the kfunc set is not
		# registered (the module's init says the errno), the BTF stays
		if [ "$res" = loaded ] && [ "$btf" = "$gsize $gsum" ] && [ "${kf%%:*}" = refused ] &&
			[ "$init" = "kfunc set registered: $arg, dtor registered: 0" ] &&
			echo "$kmsg" | grep -q 'kfunc id [0-9]* is not an id of its BTF'; then
			verdict PASS "$name ($what): kfunc set refused ($arg, '$(echo "$kmsg" | grep -m1 -o 'module .*is not an id of its BTF')'), BTF kept, call refused"
		else
			verdict FAIL "$name ($what): $res; BTF $btf; kfunc $kf; init: ${init:-none}"
		fi ;;
	oldhdr)
		# struct module's ABI: refused where the new members do not fit
		# the module's copy, else loaded (no BTF: built without vmlinux)
		# and unloaded through its exit pointer
		unload=$(echo "$log" | grep -m1 "^UNLOAD $name" | cut -d' ' -f3 || true)
		if [ "$arg" = loads ] && [ "$res" = loaded ] && [ "$btf" = none ] && [ "$unload" = ok ] &&
			[ "$init" = "kfunc set registered: 0, dtor registered: -2" ]; then
			verdict PASS "$name ($what): loaded and unloaded; no BTF, as built; $init"
		elif [ "$arg" != loads ] && [ "${res%%:*}" = refused ] &&
			echo "$kmsg" | grep -q 'btfrecon_test: .gnu.linkonce.this_module is too small for this kernel.s struct module'; then
			verdict PASS "$name ($what): refused ($arg): '$(echo "$kmsg" | grep -m1 -o '.gnu.linkonce.this_module is too small.*')'"
		else
			verdict FAIL "$name ($what): $res; BTF $btf; unload ${unload:-none}; init: ${init:-none}; want $arg"
		fi ;;
	refuse)
		failed=$(echo "$kmsg" | grep -m1 'failed to validate module \[btfrecon_test\] BTF: ' | sed 's/.*BTF: //' || true)
		if [ "$mode" = refuse ] && [ "${res%%:*}" = refused ] && [ "$failed" = "$arg" ] && [ -n "$msg" ]; then
			verdict PASS "$name ($what): refused, errno $failed [$(echo "$kmsg" | grep -m1 'BTF: ' || true)]"
		elif [ "$mode" = allow ] && [ "$res" = loaded ] && [ "$btf" = none ] && [ -z "$failed" ]; then
			verdict PASS "$name ($what): loaded without BTF${msg:+ [$msg]}"
		else
			verdict FAIL "$name ($what): $res; BTF $btf; errno ${failed:-none} (want $arg); ${msg:-no message}"
		fi ;;
	esac
done < "$dir/cases.txt"
last=$(awk '/^CASE good/{n++} n==2' "$dir/console.txt" | sed '/^LOOP start/q')
if echo "$last" | grep -q "^BTF good $gsize $gsum" && echo "$last" | grep -q "^KFUNC good retval $kret"; then
	verdict PASS "good again after every other case: same BTF, kfunc works"
else
	verdict FAIL "good again after every other case"
fi
read -r _ _ done_n loop_fails < <(grep -m1 '^LOOP done' "$dir/console.txt" || echo "LOOP done 0 x")
if [ "$done_n" = "$loops" ] && [ "$loop_fails" = 0 ]; then
	verdict PASS "load/unload loop: $loops x {$loop_vars, good}: every unload worked, good kept its BTF each time"
else
	verdict FAIL "load/unload loop: $done_n/$loops rounds, $loop_fails failures"
fi
leaks=$(sed -n 's/^KMEMLEAK //p' "$dir/console.txt")
if grep -v '^KMSG ' "$dir/console.txt" | grep -q 'kmemleak: .*disabled'; then
	verdict FAIL "kmemleak disabled itself during the run: $(grep -v '^KMSG ' "$dir/console.txt" | grep -m1 'kmemleak: .*disabled')"
fi
case "$leaks" in
0) verdict PASS "kmemleak: no suspected leak after the loop (two scans)" ;;
n/a|'') echo "boot-test: kmemleak not in this kernel" ;;
*) verdict FAIL "kmemleak: $leaks suspected leaks:"; grep '^LEAK ' "$dir/console.txt" | head -40 ;;
esac
if [ "$kasan" = yes ]; then
	n=$(grep -v '^KMSG ' "$dir/console.txt" | grep -c 'BUG: KASAN' || true)
	if [ "$n" = 0 ]; then
		verdict PASS "KASAN: no report over every case and the loop"
	else
		verdict FAIL "KASAN: $n reports"; grep -A20 -m1 'BUG: KASAN' "$dir/console.txt"
	fi
fi
if [ "$mode" = allow ]; then
	once=$(grep -v '^KMSG ' "$dir/console.txt" | grep -c 'Kernel module BTF mismatch detected' || true)
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
	verdict PASS "kernel survived every case and the loop (no oops)"
else
	verdict FAIL "kernel oopsed or did not finish"
fi
exit $fail
