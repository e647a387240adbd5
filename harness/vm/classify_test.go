package vm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	exitErr := func() error { return exec.Command("false").Run() }()
	tests := []struct {
		name     string
		console  string
		waitErr  error
		ctxErr   error
		timedOut bool
		want     Verdict
	}{
		{"clean", "Welcome to u-root!\nreboot: Power down\n", nil, nil, false, Clean},
		{"oops", "BUG: kernel NULL pointer dereference, address: 0\nKernel panic - not syncing: Fatal exception\n", nil, nil, false, Panic},
		{"soft lockup", "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [init:1]\nKernel panic - not syncing: softlockup: hung tasks\n", nil, nil, false, Lockup},
		{"hang", "Welcome to u-root!\n", nil, context.DeadlineExceeded, true, Hang},
		{"lockup then timeout", "rcu: INFO: rcu_preempt self-detected stall on CPU\n", nil, context.DeadlineExceeded, true, Lockup},
		{"qemu failed", "qemu-system-x86_64: -kernel x: No such file\n", exitErr, nil, false, QEMUError},
		{"canceled", "", errors.New("killed"), context.Canceled, false, QEMUError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, detail := classify(tc.console, tc.waitErr, tc.ctxErr, tc.timedOut)
			if got != tc.want {
				t.Fatalf("classify = %s (%s), want %s", got, detail, tc.want)
			}
		})
	}
}

func TestMachineArgs(t *testing.T) {
	a := machineArgs("arm64", AccelTCG, 1024, 2, "")
	want := map[string]bool{"virt": false, "max,pauth-impdef=on": false, "tcg": false}
	for _, x := range a {
		if _, ok := want[x]; ok {
			want[x] = true
		}
	}
	for k, ok := range want {
		if !ok {
			t.Errorf("arm64 TCG args %v lack %s", a, k)
		}
	}
}

// TestCPUModel: the -cpu each arch and accelerator gets by default, and
// an explicit model winning.
func TestCPUModel(t *testing.T) {
	for _, tc := range []struct {
		arch  string
		accel Accel
		cpu   string
		want  string
	}{
		{"amd64", AccelTCG, "", "max"},
		{"amd64", AccelKVM, "", "host"},
		{"arm64", AccelTCG, "", "max,pauth-impdef=on"},
		{"arm64", AccelKVM, "", "host"},
		{"amd64", AccelTCG, TCGBaselineCPU, "qemu64"},
	} {
		a := machineArgs(tc.arch, tc.accel, 1024, 1, tc.cpu)
		got := ""
		for i, x := range a {
			if x == "-cpu" && i+1 < len(a) {
				if got != "" {
					t.Errorf("%s/%s: -cpu twice in %v", tc.arch, tc.accel, a)
				}
				got = a[i+1]
			}
		}
		if got != tc.want {
			t.Errorf("%s/%s cpu %q: -cpu %q, want %q (%v)", tc.arch, tc.accel, tc.cpu, got, tc.want, a)
		}
	}
}

// TestWatchStall: a file that keeps growing is never taken for a stall;
// one that stops growing is, once the bound has passed since its last
// growth.
func TestWatchStall(t *testing.T) {
	f := filepath.Join(t.TempDir(), "results.jsonl")
	killed := make(chan time.Time, 1)
	done := make(chan struct{})
	defer close(done)
	start := time.Now()
	go watchStall(f, time.Second, done, func() { killed <- time.Now() })
	// Grow the file every 100 ms for a second: no kill.
	for i := range 10 {
		os.WriteFile(f, bytes.Repeat([]byte("x"), i+1), 0o644)
		select {
		case <-killed:
			t.Fatalf("killed after %v while the file grew", time.Since(start))
		case <-time.After(100 * time.Millisecond):
		}
	}
	last := time.Now()
	select {
	case at := <-killed:
		if d := at.Sub(last); d < 800*time.Millisecond {
			t.Fatalf("killed %v after the last growth, before the 1 s bound", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a file that stopped growing was not taken for a stall")
	}
}

func TestCrashSite(t *testing.T) {
	for _, tc := range []struct{ console, want string }{
		{"[   10.947726] RIP: 0010:btf_relocate_map_distilled_base+0x185/0x7a0\n", "btf_relocate_map_distilled_base"},
		{"[   12.1] pc : btf_relocate_map_distilled_base+0x1a4/0x6c8\n[   12.1] lr : btf_relocate_map_distilled_base+0x190/0x6c8\n", "btf_relocate_map_distilled_base"},
		{"pc : foo.cold+0x4/0x8\n", "foo.cold"},
		{"Welcome to u-root!\nreboot: Power down\n", ""},
	} {
		if got := CrashSite(tc.console); got != tc.want {
			t.Errorf("CrashSite(%q) = %q, want %q", tc.console, got, tc.want)
		}
	}
}

// TestWatchEnd: a guest whose results hold the end record gets the grace
// period, then is killed; one without it is left alone.
func TestWatchEnd(t *testing.T) {
	f := filepath.Join(t.TempDir(), "results.jsonl")
	os.WriteFile(f, []byte(`{"event":"boot"}`+"\n"+`{"event":"start","step":"a"}`+"\n"), 0o644)
	killed := make(chan time.Time, 1)
	done := make(chan struct{})
	defer close(done)
	go watchEnd(f, `{"event":"end"`, 500*time.Millisecond, done, func() { killed <- time.Now() })
	select {
	case <-killed:
		t.Fatal("killed before the end record")
	case <-time.After(1500 * time.Millisecond):
	}
	os.WriteFile(f, []byte(`{"event":"boot"}`+"\n"+`{"event":"end","uptime":3}`+"\n"), 0o644)
	wrote := time.Now()
	select {
	case at := <-killed:
		if at.Sub(wrote) < 400*time.Millisecond {
			t.Fatalf("killed %v after the end record, within the grace", at.Sub(wrote))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not killed after the grace")
	}
}

// TestStatTicks: utime + stime of a /proc/<pid>/stat line, a command name
// with spaces and parentheses in it.
func TestStatTicks(t *testing.T) {
	line := "4242 (qemu (x) 1) S 1 4242 4242 0 -1 4194560 2543 0 0 0 1234 56 0 0 20 0 3 0 8123 1 1\n"
	if got, ok := statTicks([]byte(line)); !ok || got != 1290 {
		t.Errorf("statTicks = %d, %v; want 1234+56", got, ok)
	}
	if _, ok := statTicks([]byte("4242 (short) S 1")); ok {
		t.Error("a short line was read")
	}
	// This test's own process: found by its command line, some CPU used.
	self, _ := os.ReadFile("/proc/self/cmdline")
	if pid := findProcess(self); pid == "" {
		t.Error("findProcess did not find this process")
	}
}
