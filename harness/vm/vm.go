// Package vm boots a kernel under QEMU with a u-root initramfs, through
// hugelgupf/vmtest's qemu package, and turns what happened into a verdict:
// a clean power-off, a panic (oops, soft lockup), or a hang cut off by a
// timeout. It tries KVM when the host offers it and falls back to TCG,
// reporting which one ran.
package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hugelgupf/vmtest/qemu"

	"github.com/btfrecon/btfrecon/harness/cache"
)

// Accel is QEMU's accelerator.
type Accel string

const (
	AccelAuto Accel = "auto" // KVM when it works here, else TCG
	AccelKVM  Accel = "kvm"
	AccelTCG  Accel = "tcg"
)

// Verdict is how a boot ended.
type Verdict string

const (
	Clean     Verdict = "clean"      // the guest powered off by itself
	Panic     Verdict = "panic"      // the kernel panicked (oops=panic: an oops too)
	Lockup    Verdict = "lockup"     // a soft/hard lockup or RCU stall, reported by the guest
	Hang      Verdict = "hang"       // no power-off within the timeout
	QEMUError Verdict = "qemu-error" // QEMU could not run the guest
)

// config is what the options set.
type config struct {
	arch      string
	qemuBin   string
	kernel    string
	initramfs string
	share     string
	shareTag  string
	memMB     int
	cpus      int
	timeout   time.Duration
	accel     Accel
	appendArg []string
	qemuArgs  []string
	console   io.Writer
	cpu       string
	// stallFile and stall: the guest is taken for wedged when stallFile
	// has not grown for stall (see Stall).
	stallFile string
	stall     time.Duration
	// endMark and endGrace: once stallFile holds endMark, the guest has
	// endGrace to power off (see EndGrace).
	endMark  string
	endGrace time.Duration
}

// Option sets one QEMU knob.
type Option func(*config)

// Arch sets the guest architecture ("amd64" or "arm64").
func Arch(a string) Option { return func(c *config) { c.arch = a } }

// Kernel sets the kernel image to boot.
func Kernel(path string) Option { return func(c *config) { c.kernel = path } }

// Initramfs sets the initramfs (a cpio archive).
func Initramfs(path string) Option { return func(c *config) { c.initramfs = path } }

// Share exposes dir to the guest over virtio-9p under tag (vmtest's
// vmmount mounts it at /mount/9p/<tag>).
func Share(dir, tag string) Option { return func(c *config) { c.share, c.shareTag = dir, tag } }

// Memory sets the guest memory in MiB.
func Memory(mb int) Option { return func(c *config) { c.memMB = mb } }

// CPUs sets the number of guest CPUs (default: 1 under TCG, where a
// second vCPU costs about a second of bring-up and competes with the host's
// other work on 2-core machines for no gain in a serial plan; 2 under KVM).
func CPUs(n int) Option { return func(c *config) { c.cpus = n } }

// Timeout bounds the whole boot; past it the guest is killed and the
// verdict is Hang.
func Timeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithAccel picks the accelerator; AccelAuto (the default) tries KVM first.
func WithAccel(a Accel) Option { return func(c *config) { c.accel = a } }

// QEMU sets the QEMU binary (default: qemu-system-x86_64 or -aarch64).
func QEMU(bin string) Option { return func(c *config) { c.qemuBin = bin } }

// AppendKernel adds kernel command-line arguments.
func AppendKernel(args ...string) Option {
	return func(c *config) { c.appendArg = append(c.appendArg, args...) }
}

// QEMUArgs adds raw QEMU arguments.
func QEMUArgs(args ...string) Option {
	return func(c *config) { c.qemuArgs = append(c.qemuArgs, args...) }
}

// Console also copies the serial console to w as it comes.
func Console(w io.Writer) Option { return func(c *config) { c.console = w } }

// CPU sets QEMU's -cpu model. The default under TCG is the model with every
// feature TCG emulates: "max" on x86 (AES-NI, PCLMULQDQ, SSSE3, SSE4.x,
// AVX/AVX2 on QEMU 7.2: the crypto modules that check for them load) and
// "max,pauth-impdef=on" on arm64 (plain max emulates pointer
// authentication slowly); "host" under KVM. TCGBaselineCPU is the x86
// model QEMU picks when none is given.
func CPU(model string) Option { return func(c *config) { c.cpu = model } }

// TCGBaselineCPU is QEMU's default x86-64 CPU model (-cpu qemu64): no
// SSSE3, AES-NI, PCLMULQDQ or AVX.
const TCGBaselineCPU = "qemu64"

// Stall kills the guest when file (a path on the host the guest appends
// to, such as the results of a plan) has not grown for d, counted from the
// boot's start until the file first appears: a guest wedged so that
// neither its own step timeout nor the kernel's lockup detectors end the
// boot. The verdict is then Hang.
func Stall(file string, d time.Duration) Option {
	return func(c *config) { c.stallFile, c.stall = file, d }
}

// EndGrace gives a guest d to power off once the Stall file holds mark
// (the guest's last record), then kills it: the verdict stays Clean. A
// kernel still busy in a load the guest gave up on can take minutes to
// reach power-off (device_shutdown waits for probes), for nothing the
// results need.
func EndGrace(mark string, d time.Duration) Option {
	return func(c *config) { c.endMark, c.endGrace = mark, d }
}

// Result is one boot.
type Result struct {
	Verdict Verdict
	Accel   Accel
	// AccelNote says why the accelerator was chosen (e.g. why KVM was
	// given up), "" when it was asked for explicitly.
	AccelNote string
	Seconds   float64 // wall time of the boot that counted
	// CPUSeconds is the CPU time QEMU used (sampled each second: up to a
	// second short), 0 when its process was not found: on a busy host a
	// steadier measure of a boot than its wall time.
	CPUSeconds float64
	Console    string // the serial console
	// Detail is the console line that decided a Panic/Lockup verdict, or
	// the error for QEMUError/Hang.
	Detail string
	// CrashSite is the function an oops stopped in ("RIP: ...:<sym>+off/len"
	// on x86, "pc : <sym>+off/len" on arm64), "" when there was none.
	CrashSite string
	Cmdline   string
}

// OK reports a clean power-off.
func (r *Result) OK() bool { return r.Verdict == Clean }

func defaults() config {
	return config{arch: runtime.GOARCH, memMB: 1024, timeout: 10 * time.Minute, accel: AccelAuto, shareTag: "gotestdata"}
}

// Run boots the guest and waits for it to power off, crash or time out.
// With AccelAuto and a usable /dev/kvm it boots with KVM first; when that
// boot fails the way a broken nested KVM fails (QEMU error, "KVM internal
// error", or a panic/hang before the guest's init ran) it boots again
// with TCG, and the Result says so.
func Run(ctx context.Context, opts ...Option) (*Result, error) {
	c := defaults()
	for _, o := range opts {
		o(&c)
	}
	if c.kernel == "" {
		return nil, errors.New("vm: no kernel")
	}
	if c.qemuBin == "" {
		var err error
		if c.qemuBin, err = qemuBinary(c.arch); err != nil {
			return nil, err
		}
	}
	switch c.accel {
	case AccelKVM, AccelTCG:
		return boot(ctx, &c, c.accel)
	case AccelAuto, "":
	default:
		return nil, fmt.Errorf("vm: unknown accelerator %q", c.accel)
	}
	why := kvmUsable(c.arch)
	if why != "" {
		r, err := boot(ctx, &c, AccelTCG)
		if r != nil {
			r.AccelNote = why
		}
		return r, err
	}
	if why := cachedKVMVerdict(c.arch); why != "" {
		r, err := boot(ctx, &c, AccelTCG)
		if r != nil {
			r.AccelNote = why
		}
		return r, err
	}
	r, err := boot(ctx, &c, AccelKVM)
	if err == nil && !kvmBroken(r) {
		r.AccelNote = "KVM usable"
		return r, nil
	}
	note := "KVM failed, fell back to TCG"
	if err != nil {
		note += ": " + err.Error()
	} else if r.Detail != "" {
		note += ": " + r.Detail
	}
	rememberKVMVerdict(c.arch, note)
	r, err = boot(ctx, &c, AccelTCG)
	if r != nil {
		r.AccelNote = note
	}
	return r, err
}

// KVMProbe is how long a KVM boot may take to reach user space before it
// is taken for a broken KVM (a nested kvm_pvm hangs or fails on Debian
// kernels) and the boot is redone with TCG.
var KVMProbe = 30 * time.Second

// The verdict of a failed KVM probe is kept for the process and in the
// cache dir, so that only the first boot on a host pays for it. Delete
// $CACHE/vm/kvm-broken-<arch> to probe again.
var (
	kvmMu      sync.Mutex
	kvmVerdict = map[string]string{}
)

func kvmVerdictFile(arch string) string {
	d, err := cache.Sub("vm")
	if err != nil {
		return ""
	}
	return filepath.Join(d, "kvm-broken-"+arch)
}

func cachedKVMVerdict(arch string) string {
	kvmMu.Lock()
	defer kvmMu.Unlock()
	if v := kvmVerdict[arch]; v != "" {
		return v
	}
	if f := kvmVerdictFile(arch); f != "" {
		if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
			kvmVerdict[arch] = strings.TrimSpace(string(b)) + " (cached: " + f + ")"
			return kvmVerdict[arch]
		}
	}
	return ""
}

func rememberKVMVerdict(arch, note string) {
	kvmMu.Lock()
	defer kvmMu.Unlock()
	kvmVerdict[arch] = note
	if f := kvmVerdictFile(arch); f != "" {
		os.WriteFile(f, []byte(note+"\n"), 0o644)
	}
}

// qemuBinary is the QEMU system emulator for a Go arch name.
func qemuBinary(arch string) (string, error) {
	name := map[string]string{"amd64": "qemu-system-x86_64", "arm64": "qemu-system-aarch64"}[arch]
	if name == "" {
		return "", fmt.Errorf("vm: unsupported arch %q (amd64, arm64)", arch)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("vm: %s not installed (apt-get install qemu-system-x86 qemu-system-arm): %w", name, err)
	}
	return p, nil
}

// kvmUsable returns "" when a KVM boot is worth trying, else why not.
func kvmUsable(arch string) string {
	if arch != runtime.GOARCH {
		return "TCG: guest arch " + arch + " differs from the host's"
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return "TCG: /dev/kvm: " + err.Error()
	}
	f.Close()
	return ""
}

// kvmBroken says whether a KVM boot failed in a way TCG may not: QEMU
// itself failed, KVM reported an emulation failure, or the guest never got
// to user space.
func kvmBroken(r *Result) bool {
	switch {
	case r.Verdict == QEMUError:
		return true
	case strings.Contains(r.Console, "KVM internal error"), strings.Contains(r.Console, "emulation failure"):
		return true
	case r.Verdict != Clean && !strings.Contains(r.Console, userSpaceMark):
		return true
	}
	return false
}

// userSpaceMark is printed by u-root's init once it runs.
const userSpaceMark = "Welcome to u-root"

func boot(ctx context.Context, c *config, accel Accel) (*Result, error) {
	fns := []qemu.Fn{
		qemu.WithQEMUCommand(c.qemuBin),
		qemu.WithKernel(c.kernel),
		qemu.WithInitramfs(c.initramfs),
		qemu.WithVMTimeout(c.timeout),
		qemu.WithQEMUArgs(machineArgs(c.arch, accel, c.memMB, c.cpus, c.cpu)...),
		qemu.WithAppendKernel(kernelArgs(c.arch)...),
		qemu.WithVmtestIdent(),
		qemu.VirtioRandom(),
	}
	if c.share != "" {
		fns = append(fns, qemu.P9Directory(c.share, c.shareTag))
	}
	if len(c.appendArg) > 0 {
		fns = append(fns, qemu.WithAppendKernel(c.appendArg...))
	}
	if len(c.qemuArgs) > 0 {
		fns = append(fns, qemu.WithQEMUArgs(c.qemuArgs...))
	}
	var console syncBuffer
	var probeKilled atomic.Bool
	outs := []io.WriteCloser{nopCloser{&console}}
	if c.console != nil {
		outs = append(outs, nopCloser{c.console})
	}
	fns = append(fns, qemu.WithSerialOutput(outs...))

	opts, err := qemu.OptionsFor(qemu.Arch(c.arch), fns...)
	if err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	if c.initramfs == "" {
		opts.Initramfs = ""
	}
	start := time.Now()
	v, err := opts.Start(ctx)
	if err != nil {
		return nil, fmt.Errorf("vm: starting %s: %w", c.qemuBin, err)
	}
	var stalled, ended atomic.Bool
	if c.stallFile != "" && c.stall > 0 {
		done := make(chan struct{})
		defer close(done)
		go watchStall(c.stallFile, c.stall, done, func() { stalled.Store(true); v.Kill() })
		if c.endMark != "" && c.endGrace > 0 {
			go watchEnd(c.stallFile, c.endMark, c.endGrace, done, func() { ended.Store(true); v.Kill() })
		}
	}
	if accel == AccelKVM && KVMProbe > 0 {
		probe := time.AfterFunc(KVMProbe, func() {
			if !strings.Contains(console.String(), userSpaceMark) {
				probeKilled.Store(true)
				v.Kill()
			}
		})
		defer probe.Stop()
	}
	meter := meterProcess(v.Cmdline())
	werr := v.Wait()
	r := &Result{Accel: accel, Seconds: time.Since(start).Seconds(), CPUSeconds: meter.stop(), Console: console.String(), Cmdline: v.CmdlineQuoted()}
	r.Verdict, r.Detail = classify(r.Console, werr, ctx.Err(), time.Since(start) >= c.timeout)
	r.CrashSite = CrashSite(r.Console)
	if probeKilled.Load() {
		r.Verdict, r.Detail = QEMUError, "no user space after "+KVMProbe.String()+" under KVM (guest killed)"
	}
	switch {
	case ended.Load() && r.Verdict != Panic && r.Verdict != Lockup:
		r.Verdict, r.Detail = Clean, fmt.Sprintf("killed %s after the guest's last record: its power-off was stuck", c.endGrace)
	case stalled.Load() && r.Verdict != Panic && r.Verdict != Lockup:
		r.Verdict, r.Detail = Hang, fmt.Sprintf("no progress for %s (%s did not grow): guest killed", c.stall, filepath.Base(c.stallFile))
	}
	return r, nil
}

// watchEnd calls kill d after file first holds mark (see EndGrace); it
// returns when done is closed.
func watchEnd(file, mark string, d time.Duration, done <-chan struct{}, kill func()) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var seen time.Time
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			if seen.IsZero() {
				if tailHas(file, mark) {
					seen = now
				}
				continue
			}
			if now.Sub(seen) >= d {
				kill()
				return
			}
		}
	}
}

// tailHas reports whether the last 4 KiB of file hold mark.
func tailHas(file, mark string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	off := max(fi.Size()-4096, 0)
	b := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil {
		return false
	}
	return strings.Contains(string(b), mark)
}

// watchStall calls kill once file has not grown for d (see Stall); it
// returns when done is closed.
func watchStall(file string, d time.Duration, done <-chan struct{}, kill func()) {
	tick := time.NewTicker(min(d/4, time.Second))
	defer tick.Stop()
	size, since := int64(-1), time.Now()
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			if fi, err := os.Stat(file); err == nil && fi.Size() != size {
				size, since = fi.Size(), now
				continue
			}
			if now.Sub(since) >= d {
				kill()
				return
			}
		}
	}
}

// machineArgs are the QEMU arguments for a machine of arch. No NIC (the
// default one costs a PCI device and, on x86, SeaBIOS running iPXE's option
// ROM) and no VGA: the guest talks over the serial console and 9p only.
func machineArgs(arch string, accel Accel, memMB, cpus int, cpu string) []string {
	if cpus <= 0 {
		cpus = 1
		if accel == AccelKVM {
			cpus = 2
		}
	}
	a := []string{"-accel", string(accel), "-m", fmt.Sprint(memMB), "-smp", fmt.Sprint(cpus), "-no-reboot", "-nic", "none"}
	if arch != "arm64" {
		a = append(a, "-vga", "none")
	}
	if cpu == "" {
		cpu = defaultCPU(arch, accel)
	}
	if arch == "arm64" {
		a = append(a, "-M", "virt")
	}
	return append(a, "-cpu", cpu)
}

// defaultCPU is the -cpu model when none is asked for (see CPU).
func defaultCPU(arch string, accel Accel) string {
	switch {
	case accel == AccelKVM:
		return "host"
	case arch == "arm64":
		return "max,pauth-impdef=on" // plain max emulates pointer auth slowly (2x boot time)
	}
	return "max"
}

// kernelArgs: the console, and every way a kernel can get stuck turned into
// a panic that ends the boot (panic=-1 with -no-reboot makes QEMU exit).
func kernelArgs(arch string) []string {
	console := "console=ttyS0"
	if arch == "arm64" {
		console = "console=ttyAMA0"
	}
	return []string{console, "loglevel=4", "panic=-1", "oops=panic", "softlockup_panic=1",
		"hung_task_panic=1", "hung_task_timeout_secs=60"}
}

var (
	panicRe  = regexp.MustCompile(`Kernel panic - not syncing.*`)
	lockupRe = regexp.MustCompile(`(watchdog: BUG: soft lockup.*|watchdog: Watchdog detected hard LOCKUP.*|rcu: INFO: rcu_\w+ (self-)?detected stall.*|INFO: task .* blocked for more than .*)`)
	oopsRe   = regexp.MustCompile(`(Oops: .*|BUG: .*|general protection fault.*|Unable to handle kernel .*)`)
)

var crashSiteRe = regexp.MustCompile(`(?m)(?:RIP: [0-9a-f]{4}:|^(?:\[[ 0-9.]+\] )?pc : )([A-Za-z_][\w.]*)\+0x`)

// CrashSite returns the function of the first oops in a console log
// (x86's "RIP: 0010:sym+0x..", arm64's "pc : sym+0x.."), or "".
func CrashSite(console string) string {
	if m := crashSiteRe.FindStringSubmatch(console); m != nil {
		return m[1]
	}
	return ""
}

// classify turns the console and QEMU's exit into a verdict.
func classify(console string, waitErr, ctxErr error, timedOut bool) (Verdict, string) {
	lockup := lockupRe.FindString(console)
	if p := panicRe.FindString(console); p != "" {
		p = strings.TrimSpace(p)
		if lockup != "" {
			return Lockup, strings.TrimSpace(lockup) + " → " + p
		}
		if o := oopsRe.FindString(console); o != "" {
			return Panic, strings.TrimSpace(o) + " → " + p
		}
		return Panic, p
	}
	if timedOut || errors.Is(ctxErr, context.DeadlineExceeded) {
		if lockup != "" {
			return Lockup, strings.TrimSpace(lockup) + " (then killed at the timeout)"
		}
		return Hang, "no power-off before the timeout"
	}
	if ctxErr != nil {
		return QEMUError, ctxErr.Error()
	}
	if waitErr != nil {
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) {
			last := lastLines(console, 3)
			return QEMUError, fmt.Sprintf("qemu: %v: %s", waitErr, last)
		}
		return QEMUError, waitErr.Error()
	}
	return Clean, ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.ReplaceAll(s.b.String(), "\r\n", "\n")
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
