package vm

import (
	"context"
	"errors"
	"os/exec"
	"testing"
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
	a := machineArgs("arm64", AccelTCG, 1024, 2)
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
