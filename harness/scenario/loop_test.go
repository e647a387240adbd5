package scenario

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/recon"
	"github.com/btfrecon/btfrecon/harness/vm"
)

func TestLoopPlan(t *testing.T) {
	renamed, _ := cases.ByLabel("negative:renamed")
	twoCand, _ := cases.ByLabel("negative:two-candidates")
	before, _ := cases.ByLabel("stale:before")
	keeps := load.Prediction{Outcome: load.KeepsBTF}
	refused := load.Prediction{Outcome: load.LoadRefused, Reason: recon.ErrNoCandidate}
	st := func(name string, dep bool, p load.Prediction, k *cases.Case) step {
		return step{Step: gotest.Step{Name: name, Dep: dep}, row: Row{pred: p, kase: k}}
	}
	steps := []step{
		st("stale-before-a", false, keeps, &before), // a case row: not the loop's
		st("negative-renamed-a", false, refused, &renamed),
		st("negative-two-candidates-a", false, refused, &twoCand), // one refused row is enough
		st("native-a", false, keeps, nil),
		st("a", false, keeps, nil),
		st("c", true, keeps, nil), // a dependency
		st("b", false, keeps, nil),
		st("d", false, load.Prediction{Outcome: load.NoBTF}, nil),
	}
	deps := map[string][]string{"a": {"native-a"}, "b": {"c"}}
	l := loopPlan(steps, deps, 10, true)
	want := []string{"native-a", "a", "negative-renamed-a"}
	if l == nil || !slices.Equal(l.Steps, want) || l.Rounds != 10 || !l.Kmemleak {
		t.Fatalf("loopPlan = %+v, want steps %q", l, want)
	}
	if l := loopPlan(steps[:3], deps, 10, true); l != nil {
		t.Errorf("only case rows: %+v, want no loop", l)
	}
}

// TestJudgeLoop: the loop's records against the first pass, and
// kmemleak's report (6.1's format, two leaks) and complaints.
func TestJudgeLoop(t *testing.T) {
	leaks, err := os.ReadFile("../../gotest/testdata/kmemleak-6.1.txt")
	if err != nil {
		t.Fatal(err)
	}
	const sumA, sumB = "aaaa000000000000000000000000000000000000000000000000000000000000", "bbbb000000000000000000000000000000000000000000000000000000000000"
	steps := []step{{Step: gotest.Step{Name: "a"}}, {Step: gotest.Step{Name: "native-a"}}, {Step: gotest.Step{Name: "neg"}}}
	rows := []Row{
		{Step: "a", Kernel: KernelBTF, Identical: true, modelSHA: sumA},
		{Step: "native-a", Kernel: KernelBTF, modelSHA: sumB},
		{Step: "neg", Kernel: KernelRefused},
	}
	first := []gotest.Outcome{
		{Started: true, Done: &gotest.Record{Loaded: true, HasBTF: true, SysfsSHA256: sumA}},
		{Started: true, Done: &gotest.Record{Loaded: true, HasBTF: true, SysfsSHA256: sumB}},
		{Started: true, Done: &gotest.Record{Errno: 22}},
	}
	good := []gotest.LoopLoad{{Step: "a", Loaded: true, SysfsSHA256: sumA}, {Step: "native-a", Loaded: true, SysfsSHA256: sumB}, {Step: "neg", Errno: 22}}
	with := func(i int, f func(*gotest.LoopLoad)) []gotest.LoopLoad {
		l := slices.Clone(good)
		f(&l[i])
		return l
	}
	round := func(n int, loads []gotest.LoopLoad, kmsg ...string) gotest.Record {
		return gotest.Record{Event: "loop", Round: n, Loads: loads, Kmsg: kmsg}
	}
	scan := func(k gotest.KmemleakScan) gotest.Record { return gotest.Record{Event: "kmemleak", Kmemleak: &k} }
	tests := []struct {
		name     string
		recs     []gotest.Record
		console  string
		require  bool
		ok       bool
		fail     string // in a failure
		kmemleak string // prefix of the verdict
	}{
		{"clean", []gotest.Record{round(1, good), round(2, good), scan(gotest.KmemleakScan{})}, "", true, true, "", "clean"},
		{"BTF changed", []gotest.Record{round(1, good), round(2, with(0, func(l *gotest.LoopLoad) { l.SysfsSHA256 = sumB })), scan(gotest.KmemleakScan{})},
			"", false, false, "round 2: a: BTF sha256 bbbb000000000000, not the model's aaaa000000000000", "clean"},
		{"BTF gone", []gotest.Record{round(1, with(1, func(l *gotest.LoopLoad) { l.SysfsSHA256 = "" })), round(2, good), scan(gotest.KmemleakScan{})},
			"", false, false, "round 1: native-a: loaded without BTF", "clean"},
		{"unload failed", []gotest.Record{round(1, good), round(2, with(1, func(l *gotest.LoopLoad) { l.UnloadErr = "resource temporarily unavailable" })), scan(gotest.KmemleakScan{})},
			"", false, false, "round 2: native-a: unload: resource temporarily unavailable", "clean"},
		{"other errno", []gotest.Record{round(1, with(2, func(l *gotest.LoopLoad) { l.Errno = 12 })), round(2, good), scan(gotest.KmemleakScan{})},
			"", false, false, "round 1: neg: refused with errno 12, 22 the first time", "clean"},
		{"refused one loads", []gotest.Record{round(1, with(2, func(l *gotest.LoopLoad) { l.Errno, l.Loaded = 0, true })), round(2, good), scan(gotest.KmemleakScan{})},
			"", false, false, "round 1: neg: loaded, refused the first time", "clean"},
		{"hung", []gotest.Record{round(1, good), round(2, []gotest.LoopLoad{{Step: "a", Hung: true}})}, "", false, false, "round 2: a: finit_module did not return", "no scan"},
		{"rounds cut short", []gotest.Record{round(1, good)}, "", false, false, "1 of 2 rounds recorded", "no scan"},
		{"leaks", []gotest.Record{round(1, good), round(2, good), scan(gotest.KmemleakScan{Report: string(leaks), Bytes: len(leaks)})},
			"", false, false, "unreferenced object 0xffff888003a4e600 (size 64, comm \"gotest.test\"): kmalloc_trace+0x2e/0xb0 < btfrecon_leak_init+0x42/0x1000", "2 suspected leaks"},
		{"disabled in the log", []gotest.Record{round(1, good, "kmemleak: Cannot allocate a kmemleak_object structure", "kmemleak: Kernel memory leak detector disabled"), round(2, good), scan(gotest.KmemleakScan{})},
			"", false, false, "kmemleak: Cannot allocate a kmemleak_object structure", "disabled itself"},
		{"disabled on the console", []gotest.Record{round(1, good), round(2, good), scan(gotest.KmemleakScan{})},
			"[   20.1] kmemleak: Kernel memory leak detector disabled\n", false, false, "kmemleak: Kernel memory leak detector disabled", "disabled itself"},
		{"scan refused", []gotest.Record{round(1, good), round(2, good), scan(gotest.KmemleakScan{Error: "scan 1 after the loop: operation not permitted"})},
			"", false, false, "kmemleak: scan 1 after the loop: operation not permitted", "failed"},
		{"unreadable report", []gotest.Record{round(1, good), round(2, good), scan(gotest.KmemleakScan{Report: "something else\n", Bytes: 15})},
			"", false, false, "no entry read", "unreadable"},
		{"no kmemleak, not required", []gotest.Record{round(1, good), round(2, good), scan(gotest.KmemleakScan{Absent: true})}, "", false, true, "", "not in this kernel"},
		{"no kmemleak, required", []gotest.Record{round(1, good), round(2, good), scan(gotest.KmemleakScan{Absent: true, Error: "no " + gotest.KmemleakFile})},
			"", true, false, "kmemleak: required", "not in this kernel"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &gotest.Loop{Rounds: 2, Steps: []string{"a", "native-a", "neg"}, Kmemleak: true}
			b := &vm.Boot{Result: &vm.Result{Console: tc.console, Verdict: vm.Clean}, Records: tc.recs, Outcomes: first}
			res := judgeLoop(l, steps, rows, b, tc.require)
			if res.OK != tc.ok {
				t.Errorf("OK = %v, want %v: %q", res.OK, tc.ok, res.Failures)
			}
			if tc.fail != "" && !slices.ContainsFunc(res.Failures, func(f string) bool { return strings.Contains(f, tc.fail) }) {
				t.Errorf("failures %q lack %q", res.Failures, tc.fail)
			}
			if !strings.HasPrefix(res.Kmemleak, tc.kmemleak) {
				t.Errorf("kmemleak %q, want %q...", res.Kmemleak, tc.kmemleak)
			}
			r := &Report{Summary: Summary{BootVerdict: string(vm.Clean)}, Loop: res}
			if r.Disagree() == tc.ok {
				t.Errorf("Disagree = %v with the loop OK = %v", r.Disagree(), tc.ok)
			}
			var sb strings.Builder
			r.WriteText(&sb)
			if !strings.Contains(sb.String(), "load/unload loop: ") || !tc.ok && !strings.Contains(sb.String(), "FAIL: ") {
				t.Errorf("text report:\n%s", sb.String())
			}
		})
	}
}
