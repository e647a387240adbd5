#!/bin/bash
# boot-test.sh BZIMAGE CASEDIR: boot the patched kernel under QEMU (TCG) with a
# busybox initramfs that loads the vmcase modules (harness/threeway/cmd/vmcase)
# and compare /sys/kernel/btf/btfrecon_test with the model's relocation.
set -euo pipefail
kernel=$1 dir=$(realpath "$2")
root=$dir/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,proc,sys,dev,mods}
cp /bin/busybox "$root/bin/busybox"
for m in good stale grew hostile; do cp "$dir/$m.ko" "$root/mods/$m.ko"; done
cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
try() { # name expectation
	if insmod /mods/$1.ko 2>/tmp/err; then
		echo "RESULT $1 loaded"
		if [ -e /sys/kernel/btf/btfrecon_test ]; then
			echo "BTF $1 $(wc -c < /sys/kernel/btf/btfrecon_test) $(sha256sum /sys/kernel/btf/btfrecon_test | cut -d' ' -f1)"
		else
			echo "BTF $1 none"
		fi
		rmmod btfrecon_test
	else
		echo "RESULT $1 refused: $(cat /tmp/err)"
	fi
}
mkdir -p /tmp
for m in good stale grew hostile good; do try $m; done
echo "VMDONE"
reboot -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$dir/initramfs.cpio.gz"
accel=tcg
start=$(date +%s.%N)
timeout 120 qemu-system-x86_64 -accel $accel -m 512M -smp 1 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$dir/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 loglevel=5" > "$dir/console.log" 2>&1 || true
end=$(date +%s.%N)
echo "boot-test: QEMU ($accel) ran $(echo "$end - $start" | bc) s"
grep -E '^(RESULT|BTF|VMDONE)|BTF:|btfrecon|failed to validate|Call Trace|BUG|Oops' "$dir/console.log" | tr -d '\r' | grep -v '^\s*$' || true
read -r size sum < "$dir/expected.txt"
fail=0
check() { grep -q "$1" "$dir/console.log" && echo "PASS $2" || { echo "FAIL $2"; fail=1; }; }
check "^BTF good $size $sum" "good.ko: /sys/kernel/btf/btfrecon_test equals the model's relocation ($size bytes)"
# Without .BTF.base, BTF made on another base is parsed as if it were on this
# one: it may fail the metadata checks or load silently wrong. Either way it
# must not be the right relocation.
if grep -q "^BTF stale $size $sum" "$dir/console.log"; then
	echo "FAIL stale.ko got the right BTF without a .BTF.base: the scenario shows nothing"; fail=1
else
	echo "PASS stale.ko (another base, no .BTF.base): $(grep -m1 '^RESULT stale' "$dir/console.log" | tr -d '\r' | cut -d' ' -f3-), BTF not the right relocation"
fi
check "^RESULT grew refused" "grew.ko (embedded struct grew) refused"
check "^RESULT hostile refused" "hostile.ko (corrupt .BTF.base) refused"
check "^VMDONE" "kernel survived every case"
grep -qE 'Call Trace|Oops|BUG:' "$dir/console.log" && { echo "FAIL kernel oops"; fail=1; }
exit $fail
