package scenario

import (
	"errors"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/vm"
)

func TestExpect(t *testing.T) {
	oops, _ := cases.ByLabel("hostile:split-id-out-of-range")
	trunc, _ := cases.ByLabel("hostile:truncated")
	cycle, _ := cases.ByLabel("hostile:typedef-cycle")
	refusedRow := func(c *cases.Case) Row {
		return Row{Role: c.Label(), kase: c, Kernel: KernelNoBTF, Predicted: load.NoBTF, Agree: true}
	}
	tests := []struct {
		name    string
		run     string
		rows    []Row
		want    []cases.Case
		verdict vm.Verdict
		site    string
		fail    string // "" when the expectation holds
	}{
		{"recorded oops", "6.12.117", []Row{refusedRow(&trunc), {Role: oops.Label(), kase: &oops, Kernel: KernelCrashed, Predicted: load.NoBTF}},
			[]cases.Case{trunc, oops}, vm.Panic, cases.OopsSite, ""},
		{"oops at another site", "6.12.117", []Row{{Role: oops.Label(), kase: &oops, Kernel: KernelCrashed, Predicted: load.NoBTF}},
			[]cases.Case{oops}, vm.Panic, "elsewhere", "expected the recorded oops"},
		{"no oops recorded on another kernel", "6.12.200", []Row{{Role: oops.Label(), kase: &oops, Kernel: KernelCrashed, Predicted: load.NoBTF}},
			[]cases.Case{oops}, vm.Panic, cases.OopsSite, "crashed"},
		{"recorded oops, but the guest only hung", "6.12.117", []Row{{Role: oops.Label(), kase: &oops, Kernel: KernelHung, Predicted: load.NoBTF}},
			[]cases.Case{oops}, vm.Lockup, "", "expected the recorded oops"},
		{"refused cleanly where no oops is recorded", "6.12.200", []Row{refusedRow(&oops)}, []cases.Case{oops}, vm.Clean, "", ""},
		{"a case without its row", "6.12.200", nil, []cases.Case{trunc}, vm.Clean, "", "no row"},
		{"recorded message present", "6.12.117",
			[]Row{func() Row { r := refusedRow(&cycle); r.Kmsg = []string{"BPF: " + cases.CycleMessage}; return r }()},
			[]cases.Case{cycle}, vm.Clean, "", ""},
		{"recorded message missing", "6.12.117", []Row{refusedRow(&cycle)}, []cases.Case{cycle}, vm.Clean, "", "kernel log lacks"},
		{"model accepts a hostile row", "6.12.200", []Row{{Role: trunc.Label(), kase: &trunc, Kernel: KernelNoBTF, Predicted: load.KeepsBTF}},
			[]cases.Case{trunc}, vm.Clean, "", "the model accepts it"},
	}
	hangs := cases.Case{Name: "spin", Class: cases.Hostile, Kernels: map[string]cases.KernelRecord{"7.2.13+deb14": {Hang: true}}}
	keeps := cases.Case{Name: "oob", Class: cases.Hostile, Kernels: map[string]cases.KernelRecord{"7.2.13+deb14": {Keeps: true}}}
	tests = append(tests, []struct {
		name    string
		run     string
		rows    []Row
		want    []cases.Case
		verdict vm.Verdict
		site    string
		fail    string
	}{
		{"recorded hang", "7.2.13+deb14", []Row{{Role: hangs.Label(), kase: &hangs, Kernel: KernelHung, Predicted: load.LoadRefused}},
			[]cases.Case{hangs}, vm.Lockup, "", ""},
		{"recorded hang, but it returned", "7.2.13+deb14", []Row{{Role: hangs.Label(), kase: &hangs, Kernel: KernelRefused, Predicted: load.LoadRefused, Agree: true}},
			[]cases.Case{hangs}, vm.Clean, "", "expected the recorded hang"},
		{"recorded load with BTF", "7.2.13+deb14", []Row{{Role: keeps.Label(), kase: &keeps, Kernel: KernelBTF, Predicted: load.LoadRefused}},
			[]cases.Case{keeps}, vm.Clean, "", ""},
		{"recorded load with BTF, but refused", "7.2.13+deb14", []Row{{Role: keeps.Label(), kase: &keeps, Kernel: KernelRefused, Predicted: load.LoadRefused, Agree: true}},
			[]cases.Case{keeps}, vm.Clean, "", "expected the recorded load WITH BTF"},
	}...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Rows: tc.rows, Summary: Summary{Run: tc.run, Arch: "amd64", BootVerdict: string(tc.verdict), CrashSite: tc.site}}
			err := Expect(r, tc.want)
			switch {
			case tc.fail == "" && err != nil:
				t.Fatalf("unexpected failure: %v", err)
			case tc.fail != "" && (err == nil || !strings.Contains(err.Error(), tc.fail)):
				t.Fatalf("got %v, want a failure saying %q", err, tc.fail)
			}
		})
	}
	if !errors.Is(oops.Model, btf.ErrTypeIDRange) {
		t.Fatal("catalog: split-id-out-of-range expects a type id range refusal")
	}
}
