//go:build !vmguest

package gotest

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := Step{Name: "nls_utf8", File: "mods/nls_utf8.ko", Module: "nls_utf8"}
	tests := []struct {
		name string
		step Step
		err  string
	}{
		{"ok", ok, ""},
		{"slash in name", Step{Name: "a/b", File: "x", Module: "m"}, "bad name"},
		{"absolute file", Step{Name: "a", File: "/etc/passwd", Module: "m"}, "relative"},
		{"escaping file", Step{Name: "a", File: "../x", Module: "m"}, "relative"},
		{"dash in module", Step{Name: "a", File: "x", Module: "crc-itu-t"}, "bad module"},
		{"bad flags", Step{Name: "a", File: "x", Module: "m", Flags: 4}, "flags"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := (&Plan{Steps: []Step{tc.step}}).Validate()
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Validate: %v, want %q", err, tc.err)
			}
		})
	}
	if err := (&Plan{Steps: []Step{ok, ok}}).Validate(); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("duplicate steps: %v", err)
	}
}

func TestReadRecordsAndOutcomes(t *testing.T) {
	plan := &Plan{Steps: []Step{
		{Name: "a", File: "mods/a.ko", Module: "a"},
		{Name: "b", File: "mods/b.ko", Module: "b"},
		{Name: "c", File: "mods/c.ko", Module: "c"},
	}}
	data := `{"event":"boot","uname":"6.12.117+deb12-amd64"}
{"event":"start","step":"a"}
{"event":"done","step":"a","loaded":true,"has_btf":true,"sysfs_bytes":148}
{"event":"start","step":"b"}
{"event":"done","step":"b","load_e`
	recs, torn, err := ReadRecords([]byte(data))
	if err != nil || !torn || len(recs) != 4 {
		t.Fatalf("ReadRecords: %d records, torn %v, %v", len(recs), torn, err)
	}
	oc := Outcomes(plan, recs)
	if !oc[0].Started || oc[0].Done == nil || oc[0].Done.SysfsBytes != 148 {
		t.Errorf("a: %+v", oc[0])
	}
	if !oc[1].Started || oc[1].Done != nil {
		t.Errorf("b (died mid-step): %+v", oc[1])
	}
	if oc[2].Started {
		t.Errorf("c never started: %+v", oc[2])
	}
	if _, _, err := ReadRecords([]byte("{bad}\n{\"event\":\"end\"}\n")); err == nil {
		t.Error("a bad line in the middle was accepted")
	}
	if _, err := ReadPlan(strings.NewReader(`{"steps":[],"bogus":1}`)); err == nil {
		t.Error("unknown plan field accepted")
	}
}

func TestExtend(t *testing.T) {
	const bound = 20 * time.Second
	tests := []struct {
		name   string
		waited time.Duration
		busy   bool
		want   bool
	}{
		{"stuck at its bound", bound, false, false},
		{"at work at its bound", bound, true, true},
		{"at work, the next bound still under the cap", BusyCap - bound, true, true},
		{"at work, the next bound past the cap", BusyCap - bound + time.Second, true, false},
		{"stopped after working", 5 * bound, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Extend(tc.waited, bound, tc.busy); got != tc.want {
				t.Errorf("Extend(%v, %v, %v) = %v, want %v", tc.waited, bound, tc.busy, got, tc.want)
			}
		})
	}
	if Extend(time.Second, 0, true) {
		t.Error("a step with no bound was extended")
	}
}

// TestInitSettled: /sys/module/<m>/initstate as the kernel prints it
// (module_state's names, a newline after): only "coming", while the init
// runs, means the BTF was settled and the load is past it.
func TestInitSettled(t *testing.T) {
	for _, tc := range []struct {
		state string
		want  bool
	}{{"coming\n", true}, {"coming", true}, {"live\n", false}, {"going\n", false}, {"", false}} {
		if got := InitSettled(tc.state); got != tc.want {
			t.Errorf("InitSettled(%q) = %v, want %v", tc.state, got, tc.want)
		}
	}
}

func TestBusy(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"test_bpf: #1023 Staggered jumps: JMP_JSGT_X jited:1 21208297 PASS", true},
		{"alg: self-tests for serpent-avx2 (serpent) passed", true},
		{"watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:123]", false},
		{"rcu: INFO: rcu_preempt self-detected stall on CPU", false},
		{"INFO: task modprobe:88 blocked for more than 120 seconds.", false},
	}
	for _, tc := range tests {
		if got := Busy(tc.line); got != tc.want {
			t.Errorf("Busy(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}
