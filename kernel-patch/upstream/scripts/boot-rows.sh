#!/bin/bash
# boot-rows.sh KDIR: boot the unpatched and the patched minimal 7.2 kernel
# (KDIR/{unpatched,patched}/bzImage, made by kernel.sh) under QEMU (TCG),
# once per module row (KDIR/<side>/rows/<row>.ko, made by cmd/upstreamcases
# from the test module built against that side's tree), with a busybox
# initramfs that insmods the row, waits up to HANG_SECONDS (default 20) for
# insmod to return, prints what became of the module and its BTF, and
# reboots (sysrq-t first when it hangs: the task states, insmod's stack
# among them). Each boot's console is KDIR/<side>/boot-<row>.log. ROWS and
# CONTROLS (environment) narrow the rows booted.
#
# A row reproduces on the unpatched kernel and is clean on the patched one:
#
#   row                     unpatched (reproduces)          patched (clean)
#   split-id-out-of-range   oops in btf_relocate_map_distilled_base   refused
#   array-cycle             insmod never returns            refused
#   array-typedef-cycle     insmod never returns            refused
#   ptr-id-out-of-range     loads with BTF                  refused
#   btf-ids-out-of-range    oops (read past base_id_map)    loads, kfunc set refused
#
# and the controls must be the same on both: good loads with its BTF and
# its kfunc set registers (0), typedef-cycle is refused ("Max chain length
# or cycle detected").
# "refused" means insmod failed, no oops, no hang. One verdict line per row
# and side, then
#   kernel: unpatched A/K reproduce, patched B/K clean
set -euo pipefail
kdir=$(realpath "$1")
hang=${HANG_SECONDS:-20}
busybox=${BUSYBOX:-/bin/busybox}
qemu=${QEMU:-qemu-system-x86_64}
rows=${ROWS-split-id-out-of-range array-cycle array-typedef-cycle ptr-id-out-of-range btf-ids-out-of-range}
controls=${CONTROLS-good typedef-cycle}
mod=btfrecon_up

boot() { # side row -> KDIR/side/boot-row.log
	local side=$1 row=$2 root log
	root=$(mktemp -d)
	log=$kdir/$side/boot-$row.log
	mkdir -p "$root"/{bin,proc,sys,dev,mods,tmp}
	cp "$busybox" "$root/bin/busybox"
	cp "$kdir/$side/rows/$row.ko" "$root/mods/"
	cat > "$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo 1 > /proc/sys/kernel/sysrq
echo "ROW start $row"
insmod /mods/$row.ko 2>/tmp/err &
pid=\$!
i=0
while [ \$i -lt $hang ] && kill -0 \$pid 2>/dev/null; do sleep 1; i=\$((i + 1)); done
if kill -0 \$pid 2>/dev/null; then
	echo "ROW hang $row: insmod has not returned after $hang s"
	echo t > /proc/sysrq-trigger
	sleep 3
else
	if wait \$pid; then echo "ROW loaded $row"; else echo "ROW refused $row: \$(cat /tmp/err)"; fi
	if [ -e /sys/kernel/btf/$mod ]; then
		echo "ROW btf $row kept \$(wc -c < /sys/kernel/btf/$mod) bytes"
	else
		echo "ROW btf $row none"
	fi
fi
echo "ROW end $row"
reboot -f
INIT
	chmod +x "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$root.cpio.gz"
	timeout 180 "$qemu" -accel tcg -m 512M -smp 2 -nographic -no-reboot \
		-kernel "$kdir/$side/bzImage" -initrd "$root.cpio.gz" \
		-append "console=ttyS0 loglevel=7 panic=-1 oops=panic" > "$log" 2>&1 || true
	rm -rf "$root" "$root.cpio.gz"
}

# outcome LOG ROW: crash:<function> | hang | btf | loaded | refused | none
outcome() {
	local log=$1 row=$2 rip
	tr -d '\r' < "$log" > "$log.txt"
	if grep -qE 'BUG: |Oops: |general protection fault|Kernel panic' "$log.txt"; then
		rip=$(grep -m1 -oE 'RIP: 0010:[A-Za-z0-9_.]+' "$log.txt" | sed 's/RIP: 0010://')
		echo "crash:${rip:-unknown}"
	elif grep -q "^ROW hang $row" "$log.txt"; then
		echo hang
	elif grep -q "^ROW btf $row kept" "$log.txt"; then
		echo btf
	elif grep -q "^ROW loaded $row" "$log.txt"; then
		echo loaded
	elif grep -q "^ROW refused $row" "$log.txt"; then
		echo refused
	else
		echo none
	fi
	rm -f "$log.txt"
}

# reproduces ROW OUTCOME (unpatched) / clean ROW OUTCOME LOG (patched)
reproduces() {
	case "$1:$2" in
	split-id-out-of-range:crash:btf_relocate_map_distilled_base*) return 0 ;;
	array-cycle:hang | array-typedef-cycle:hang) return 0 ;;
	ptr-id-out-of-range:btf) return 0 ;;
	btf-ids-out-of-range:crash:*) return 0 ;;
	esac
	return 1
}
clean() {
	case "$1:$2" in
	btf-ids-out-of-range:btf) grep -q "kfunc set registered: -22" "$3" ;;
	btf-ids-out-of-range:*) return 1 ;;
	*:refused) return 0 ;;
	*) return 1 ;;
	esac
}

fail=0 repro=0 cleaned=0 k=0
for side in unpatched patched; do
	for row in $controls $rows; do
		[ -f "$kdir/$side/rows/$row.ko" ] || { echo "FAIL: no $side/rows/$row.ko"; fail=1; continue; }
		boot "$side" "$row"
		o=$(outcome "$kdir/$side/boot-$row.log" "$row")
		msg=$(tr -d '\r' < "$kdir/$side/boot-$row.log" |
			grep -m1 -E 'split BTF type|Max chain length|failed to validate module|kfunc set registered|BUG: ' |
			sed -E 's/^\[ *[0-9.]+\] //' || true)
		case "$row" in
		good)	if [ "$o" = btf ] && grep -q "kfunc set registered: 0" "$kdir/$side/boot-$row.log"; then
				v=ok
			else
				v=FAIL; fail=1
			fi ;;
		typedef-cycle) want=refused; [ "$o" = refused ] && v=ok || { v=FAIL; fail=1; } ;;
		*)	if [ "$side" = unpatched ]; then
				want=reproduces; k=$((k + 1))
				if reproduces "$row" "$o"; then v=reproduces; repro=$((repro + 1)); else v=FAIL; fail=1; fi
			else
				want=clean
				if clean "$row" "$o" "$kdir/$side/boot-$row.log"; then v=clean; cleaned=$((cleaned + 1)); else v=FAIL; fail=1; fi
			fi ;;
		esac
		echo "$side $row: $o ($v)${msg:+: $msg}"
	done
done
echo "kernel: unpatched $repro/$k reproduce, patched $cleaned/$k clean"
[ "$fail" = 0 ]
