//go:build vmguest

package gotest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// shareDir is where vmtest's vmmount mounts the 9p share.
func shareDir() string {
	if d := os.Getenv("BTFRECON_SHARE"); d != "" {
		return d
	}
	return "/mount/9p/" + ShareTag
}

// TestPlan runs the plan in the shared directory. It fails only when the
// harness itself cannot work (no plan, no sysfs); what the kernel did with
// each module is data for the host, not a test verdict.
func TestPlan(t *testing.T) {
	if os.Getenv("VMTEST_IN_GUEST") != "1" {
		t.Skip("runs only inside a btfrecon VM (VMTEST_IN_GUEST=1)")
	}
	testStart := uptime()
	phases := map[string]int64{}
	lap := time.Now()
	phase := func(name string) {
		phases[name] = time.Since(lap).Milliseconds()
		lap = time.Now()
	}
	dir := shareDir()
	f, err := os.Open(filepath.Join(dir, PlanFile))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ReadPlan(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, OutDir), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := newRecorder(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	klog := openKmsg()
	defer klog.close()

	if plan.Modprobe {
		if err := installModprobe(); err != nil {
			t.Logf("modprobe: %v (request_module will fail)", err)
		}
	}
	phase("plan")
	boot := Record{Event: "boot", Taint: taint(), TestStart: testStart, Phases: phases}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		boot.Uname = unix.ByteSliceToString(u.Release[:])
	}
	// The module BTF is judged on the host (digest against the model's,
	// cilium/ebpf's parse): the guest only loads and reads back, so its
	// set-up is the plan and, when asked, a copy of vmlinux BTF.
	if fi, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Fatalf("vmlinux BTF: %v", err)
	} else {
		boot.VmlinuxBytes = int(fi.Size())
	}
	if plan.CopyVmlinux {
		vmraw, err := os.ReadFile("/sys/kernel/btf/vmlinux")
		if err != nil {
			t.Fatalf("vmlinux BTF: %v", err)
		}
		boot.VmlinuxBytes = len(vmraw)
		if err := os.WriteFile(filepath.Join(dir, VmlinuxOut), vmraw, 0o644); err != nil {
			t.Fatal(err)
		}
		boot.VmlinuxFile = VmlinuxOut
		phase("copy_vmlinux")
	}
	boot.Kmsg = klog.drain()
	w.write(boot)

	timeout := time.Duration(plan.StepTimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	stuck := false
	for _, s := range plan.Steps {
		w.write(Record{Event: "start", Step: s.Name, Module: s.Module})
		// A module still at work past its bound (test_bpf's log, tcrypt's
		// modprobe loads of every algorithm it tests) is slow, not stuck.
		mark := w.size()
		busy := func(waited time.Duration) bool {
			grew := klog.hold(Busy) > 0 || w.size() > mark
			if grew {
				w.write(Record{Event: "progress", Step: s.Name, Module: s.Module, Millis: waited.Milliseconds()})
			}
			mark = w.size()
			return grew
		}
		rec, hung := runStep(dir, s, max(timeout, time.Duration(s.TimeoutSeconds)*time.Second), busy, plan.StopAtSlowInit)
		rec.Kmsg = klog.drain()
		w.write(rec)
		if hung || rec.InitRunning {
			t.Logf("step %s: finit_module did not return within %v; stopping", s.Name, timeout)
			stuck = true
			break
		}
	}
	if plan.Loop != nil && !stuck {
		runLoop(dir, plan, w, klog, timeout)
	}
	w.write(Record{Event: "end", Taint: taint(), Kmsg: klog.drain()})
}

// runStep loads s, waiting timeout for finit_module, and another timeout
// each time busy says the module was at work meanwhile (see Extend); with
// stopAtInit a module at work in its init past the bound has its BTF read
// there and the step ends (Record.InitRunning).
func runStep(dir string, s Step, timeout time.Duration, busy func(waited time.Duration) bool, stopAtInit bool) (Record, bool) {
	rec := Record{Event: "done", Step: s.Name, Module: s.Module}
	start := time.Now()

	errc := make(chan error, 1)
	go func() { errc <- load(filepath.Join(dir, s.File), s.Flags) }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var err error
wait:
	for {
		select {
		case err = <-errc:
			break wait
		case <-timer.C:
			waited := time.Since(start)
			working := busy(waited)
			if working && stopAtInit && InitSettled(initState(s.Module)) {
				rec.InitRunning = true
				rec.LoadMicros, rec.Millis = waited.Microseconds(), waited.Milliseconds()
				rec.LoadErr = fmt.Sprintf("init still at work after %v (its BTF read then; not waited for)", waited.Round(time.Second))
				readBTF(dir, s, &rec)
				return rec, false
			}
			if Extend(waited, timeout, working) {
				timer.Reset(timeout)
				continue
			}
			rec.Event, rec.Busy = "hung", working
			rec.LoadMicros = waited.Microseconds()
			rec.LoadErr = fmt.Sprintf("finit_module still running after %v", waited.Round(time.Second))
			if working {
				rec.LoadErr += fmt.Sprintf(" (still at work: the cap for a step at work past its bound of %v)", timeout)
			}
			rec.Millis = waited.Milliseconds()
			if InitSettled(initState(s.Module)) {
				// Stuck in its init: the BTF was served before it.
				rec.InInit = true
				readBTF(dir, s, &rec)
			}
			return rec, true
		}
	}
	rec.LoadMicros = time.Since(start).Microseconds()
	switch {
	case err == nil:
		rec.Loaded = true
	case errors.Is(err, unix.EEXIST) && alreadyLoaded(s.Module):
		// EEXIST is also what an init may return (an id taken by a
		// module loaded before): only a module still there was loaded.
		rec.Loaded, rec.AlreadyLoaded = true, true
	default:
		rec.LoadErr = err.Error()
		var en unix.Errno
		if errors.As(err, &en) {
			rec.Errno = int(en)
		}
	}

	if rec.Loaded {
		readBTF(dir, s, &rec)
		if len(s.Kfuncs) > 0 {
			h, herr := moduleBTF(s.Module)
			for _, p := range s.Kfuncs {
				rec.Kfuncs = append(rec.Kfuncs, probeKfunc(h, herr, s.Module, p))
			}
			if herr == nil {
				h.Close()
			}
		}
	}
	if s.Unload && rec.Loaded && !rec.AlreadyLoaded {
		if err := unload(s.Module); err != nil {
			rec.UnloadErr = err.Error()
		} else {
			rec.Unloaded = true
		}
	}
	rec.Millis = time.Since(start).Milliseconds()
	return rec, false
}

// readBTF records /sys/kernel/btf/<module>: its size and digest, and a
// copy in the share when the digest is not the one the step expects.
func readBTF(dir string, s Step, rec *Record) {
	raw, err := os.ReadFile("/sys/kernel/btf/" + s.Module)
	if err != nil {
		return
	}
	rec.HasBTF = true
	rec.SysfsBytes = len(raw)
	sum := sha256.Sum256(raw)
	rec.SysfsSHA256 = hex.EncodeToString(sum[:])
	if rec.SysfsSHA256 != s.SHA256 {
		rec.SysfsFile = OutFile(s.Name)
		if err := os.WriteFile(filepath.Join(dir, rec.SysfsFile), raw, 0o644); err != nil {
			rec.LoadErr = "writing sysfs copy: " + err.Error()
		}
	}
}

// initState is /sys/module/<name>/initstate ("" when there is none).
func initState(name string) string {
	b, _ := os.ReadFile("/sys/module/" + name + "/initstate")
	return string(b)
}

// unload removes a module, waiting up to 10 s while it is in use: a BPF
// program that called its kfuncs holds it until the program is freed,
// after its fd is closed, an RCU grace period later.
func unload(name string) error {
	for deadline := time.Now().Add(10 * time.Second); ; {
		err := unix.DeleteModule(name, unix.O_NONBLOCK)
		if err == nil || !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alreadyLoaded reports whether the kernel holds a live module called name.
func alreadyLoaded(name string) bool {
	return strings.TrimSpace(initState(name)) == "live"
}

func load(path string, flags int) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	return unix.FinitModule(fd, "", flags)
}

// uptime is /proc/uptime's first field: seconds since the kernel started.
func uptime() float64 {
	b, _ := os.ReadFile("/proc/uptime")
	var up float64
	fmt.Sscan(string(b), &up)
	return up
}

func taint() string {
	b, _ := os.ReadFile("/proc/sys/kernel/tainted")
	return strings.TrimSpace(string(b))
}

// recorder appends Records to results.jsonl, one synced line each, so a
// guest that dies mid-plan still leaves everything before it.
type recorder struct {
	mu sync.Mutex
	f  *os.File
}

func newRecorder(path string) (*recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &recorder{f: f}, nil
}

func (r *recorder) write(rec Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec.Uptime = uptime()
	b, err := json.Marshal(rec)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"event":"error","load_err":%q}`, err.Error()))
	}
	// No fsync: a 9p write (cache=none) is on the host when it returns,
	// and a host-side fsync a record would cost a disk flush per step.
	r.f.Write(append(b, '\n'))
}

func (r *recorder) close() { r.f.Close() }

// size is how long the results file is (the modprobe loads append to it).
func (r *recorder) size() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	fi, err := r.f.Stat()
	if err != nil {
		return 0
	}
	return fi.Size()
}

// kmsg reads new kernel log records from /dev/kmsg without blocking; when
// /dev/kmsg cannot be opened it falls back to the syslog buffer (klogctl),
// returning only what is new since the last call.
type kmsg struct {
	fd   int
	last string // klogctl fallback: the buffer seen last time
	// held are lines read while a step was still running (hold), given
	// out with the step's by the next drain.
	held []string
}

// hold reads what is new into held and returns how many of those lines
// count (by the count function).
func (k *kmsg) hold(count func(string) bool) int {
	n := 0
	for _, l := range k.read() {
		k.held = append(k.held, l)
		if count(l) {
			n++
		}
	}
	return n
}

func openKmsg() *kmsg {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &kmsg{fd: -1}
	}
	// Keep the boot log too: the boot record gets it (it holds what the
	// kernel said about vmlinux BTF and the 9p modules).
	return &kmsg{fd: fd}
}

func (k *kmsg) close() {
	if k.fd >= 0 {
		unix.Close(k.fd)
	}
}

func (k *kmsg) drain() []string {
	lines := append(k.held, k.read()...)
	k.held = nil
	return lines
}

func (k *kmsg) read() []string {
	if k.fd < 0 {
		return k.drainSyslog()
	}
	var lines []string
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(k.fd, buf)
		if errors.Is(err, unix.EPIPE) { // overwritten records: go on
			continue
		}
		if err != nil || n <= 0 {
			return lines
		}
		rec := string(buf[:n])
		if i := strings.IndexByte(rec, ';'); i >= 0 {
			rec = rec[i+1:]
		}
		// Continuation lines (" KEY=value") are dictionary entries; drop them.
		if j := strings.Index(rec, "\n"); j >= 0 {
			rec = rec[:j]
		}
		lines = append(lines, rec)
	}
}

func (k *kmsg) drainSyslog() []string {
	const sysActionReadAll, sysActionSizeBuffer = 3, 10
	size, err := unix.Klogctl(sysActionSizeBuffer, nil)
	if err != nil || size <= 0 {
		return nil
	}
	buf := make([]byte, size)
	n, err := unix.Klogctl(sysActionReadAll, buf)
	if err != nil {
		return nil
	}
	all := string(buf[:n])
	fresh := strings.TrimPrefix(all, k.last)
	k.last = all
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(fresh), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
