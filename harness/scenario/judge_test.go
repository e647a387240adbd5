package scenario

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/recon"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// share is a guest share held in memory.
type share map[string][]byte

func (s share) ReadFile(name string) ([]byte, error) {
	if b, ok := s[name]; ok {
		return b, nil
	}
	return nil, os.ErrNotExist
}

// fixture: a target vmlinux and a module split on it, as the model would
// serve it; the sysfs bytes of the tests are copies of it, edited.
func fixture(t *testing.T) (target, model *btf.Spec) {
	t.Helper()
	b := btf.NewBuilder(binary.LittleEndian, nil)
	b.Int("int", 4, btf.IntSigned)
	target, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	sb := btf.NewBuilder(binary.LittleEndian, target)
	sb.Struct("holder", 4, btf.Member{Name: "x", Type: 1})
	if model, err = sb.Spec(); err != nil {
		t.Fatal(err)
	}
	return target, model
}

func TestJudge(t *testing.T) {
	target, model := fixture(t)
	same := model.Marshal()
	other := bytes.Clone(same)
	other[len(other)-2] ^= 1 // a string byte
	sh := share{"out/same": same, "out/other": other}

	keeps := load.Prediction{Outcome: load.KeepsBTF, Model: model}
	noBTF := load.Prediction{Outcome: load.NoBTF, Reason: recon.ErrNoCandidate}
	refused := load.Prediction{Outcome: load.LoadRefused, Reason: recon.ErrNoCandidate}
	renamed, _ := cases.ByLabel("negative:renamed")
	before, _ := cases.ByLabel("stale:before")

	done := func(r gotest.Record) gotest.Outcome { return gotest.Outcome{Started: true, Done: &r} }
	withBTF := done(gotest.Record{Loaded: true, HasBTF: true, SysfsFile: "out/same", SysfsBytes: len(same)})
	tests := []struct {
		name    string
		role    string
		kase    *cases.Case
		pred    load.Prediction
		oc      gotest.Outcome
		kernel  KernelOutcome
		agree   bool
		verdict string
	}{
		{"identical", RoleModule, nil, keeps, withBTF, KernelBTF, true, "identical"},
		{"different bytes", RoleModule, nil, keeps,
			done(gotest.Record{Loaded: true, HasBTF: true, SysfsFile: "out/other"}), KernelBTF, false, "DIFFERENT at byte"},
		{"sysfs copy missing", RoleModule, nil, keeps,
			done(gotest.Record{Loaded: true, HasBTF: true, SysfsFile: "out/gone"}), KernelBTF, false, "sysfs copy missing"},
		{"kernel kept what the model refuses", RoleModule, nil, noBTF, withBTF, KernelBTF, false, "DISAGREE: kernel kept BTF"},
		{"both drop the BTF", RoleModule, nil, noBTF, done(gotest.Record{Loaded: true}), KernelNoBTF, true, "agree: loaded, no BTF"},
		{"kernel drops what the model keeps", RoleModule, nil, keeps, done(gotest.Record{Loaded: true}), KernelNoBTF, false, "DISAGREE: kernel dropped"},
		{"both refuse the load", RoleModule, nil, refused,
			done(gotest.Record{LoadErr: "invalid argument"}), KernelRefused, true, "agree: load refused"},
		{"load fails for another reason", RoleModule, nil, keeps,
			done(gotest.Record{LoadErr: "no such device"}), KernelRefused, false, "load failed (no such device)"},
		{"load fails on the BTF the model keeps", RoleModule, nil, keeps,
			done(gotest.Record{LoadErr: "invalid argument", Kmsg: []string{"failed to validate module [m] BTF: -22"}}), KernelRefused, false,
			"DISAGREE: the kernel refused the module's BTF"},
		{"already loaded", RoleDep, nil, keeps, done(gotest.Record{AlreadyLoaded: true}), KernelAlready, false, "not judged"},
		{"loaded before its step, with BTF", RoleModule, nil, keeps,
			done(gotest.Record{Loaded: true, AlreadyLoaded: true, HasBTF: true, SysfsFile: "out/same", SysfsBytes: len(same)}), KernelBTF, true, "identical"},
		{"not run", RoleModule, nil, keeps, gotest.Outcome{}, KernelNotRun, false, "not run"},
		{"hung", RoleModule, nil, keeps, gotest.Outcome{Started: true}, KernelHung, false, "guest stuck"},
		{"still at work at the cap", RoleModule, nil, keeps,
			gotest.Outcome{Started: true, Hung: true, Done: &gotest.Record{Event: "hung", Busy: true}}, KernelHung, false,
			"still at work in this load after 10m0s"},
		{"init still at work, BTF identical", RoleModule, nil, keeps,
			done(gotest.Record{InitRunning: true, HasBTF: true, SysfsFile: "out/same", SysfsBytes: len(same), Millis: 20004}),
			KernelInitRunning, true, "identical (init still at work after 20 s, not waited for)"},
		{"init still at work, BTF different", RoleModule, nil, keeps,
			done(gotest.Record{InitRunning: true, HasBTF: true, SysfsFile: "out/other"}), KernelInitRunning, false, "DIFFERENT at byte"},
		{"init still at work, no BTF as the model says", RoleModule, nil, noBTF,
			done(gotest.Record{InitRunning: true}), KernelInitRunning, true, "agree: no BTF (init still at work"},
		{"init still at work, BTF dropped that the model keeps", RoleModule, nil, keeps,
			done(gotest.Record{InitRunning: true}), KernelInitRunning, false, "DISAGREE: kernel dropped the BTF"},
		{"stuck in its init, BTF identical", RoleModule, nil, keeps,
			gotest.Outcome{Started: true, Hung: true, Done: &gotest.Record{Event: "hung", InInit: true, HasBTF: true, SysfsFile: "out/same", SysfsBytes: len(same)}},
			KernelHung, false, "guest stuck in this load (boot clean); in its init, the BTF served before it: identical"},
		{"stuck in its init, BTF different", RoleModule, nil, keeps,
			gotest.Outcome{Started: true, Hung: true, Done: &gotest.Record{Event: "hung", InInit: true, HasBTF: true, SysfsFile: "out/other", SysfsBytes: len(other)}},
			KernelHung, false, "guest stuck in this load (boot clean); in its init, the BTF served before it: DIFFERENT at byte"},
		{"case refused for the catalog's reason", renamed.Label(), &renamed, noBTF, done(gotest.Record{Loaded: true}), KernelNoBTF, true, "agree"},
		{"case refused for another reason", renamed.Label(), &renamed,
			load.Prediction{Outcome: load.NoBTF, Reason: recon.ErrMultiple}, done(gotest.Record{Loaded: true}), KernelNoBTF, false,
			"DISAGREE: the model refuses for another reason"},
		{"stale row is informational", before.Label(), &before, keeps, done(gotest.Record{Loaded: true}), KernelNoBTF, true,
			"before (no .BTF.base): no-btf"},
	}
	boot := &vm.Boot{Result: &vm.Result{Verdict: vm.Clean}}
	crash := &vm.Boot{Result: &vm.Result{Verdict: vm.Panic, CrashSite: "btf_relocate_map_distilled_base"}}
	row := judge(Row{Module: "m", Role: RoleModule, pred: keeps}, gotest.Outcome{Started: true}, crash, sh, target)
	if row.Kernel != KernelCrashed || row.Agree || row.Verdict != "kernel crashed in this load (in btf_relocate_map_distilled_base)" {
		t.Errorf("a load the kernel oopsed in: %s %q", row.Kernel, row.Verdict)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := judge(Row{Module: "m", Role: tc.role, Predicted: tc.pred.Outcome, pred: tc.pred, kase: tc.kase}, tc.oc, boot, sh, target)
			if row.Kernel != tc.kernel || row.Agree != tc.agree || !strings.HasPrefix(row.Verdict, tc.verdict) {
				t.Fatalf("kernel %s agree %v verdict %q; want %s %v %q", row.Kernel, row.Agree, row.Verdict, tc.kernel, tc.agree, tc.verdict)
			}
			if tc.verdict == "DIFFERENT at byte" && (row.Diff == "" || row.Identical) {
				t.Fatalf("a difference without a diff: %+v", row)
			}
			if tc.verdict == "identical" && (!row.Identical || row.ModelBytes != len(same)) {
				t.Fatalf("identical row: %+v", row)
			}
		})
	}
}

func TestCount(t *testing.T) {
	rows := []Row{
		{Role: RoleModule, Code: "A", Kernel: KernelBTF, Predicted: load.KeepsBTF, Identical: true, Agree: true},
		{Role: RoleModule, Code: "B", Kernel: KernelBTF, Predicted: load.KeepsBTF, Agree: false}, // a byte difference
		{Role: RoleDep, Code: "B", Kernel: KernelNoBTF, Predicted: load.NoBTF, Agree: true},
		{Role: RoleModule, Code: "A", Kernel: KernelRefused, Predicted: load.KeepsBTF, Agree: false},     // no hardware: not a disagreement
		{Role: RoleModule, Code: "A", Kernel: KernelRefused, Predicted: load.KeepsBTF, BTFRefused: true}, // its BTF: a disagreement
		{Role: RoleTestModule, Code: "file", Kernel: KernelNoBTF, Predicted: load.KeepsBTF, Agree: false},
		{Role: "negative:renamed", Kernel: KernelNoBTF, Predicted: load.NoBTF, Agree: true}, // case rows: not modules
		{Role: "hostile:truncated", Kernel: KernelHung, Predicted: load.NoBTF, Agree: false},
	}
	var s Summary
	for _, r := range rows {
		s.count(r, "A")
	}
	want := Summary{Modules: 6, Loaded: 4, Refused: 2, BTFKept: 2, BTFDropped: 2, Identical: 1, Differences: 1,
		Disagreements: 4, OwnBuild: 1, OtherBuild: 3}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("count:\n got %+v\nwant %+v", s, want)
	}
}

// TestWriteText: a report pastes into a mail: no line over 100 columns, no
// Go syntax, the oops and the console path in it, and a last line that
// says what the exit status says.
func TestWriteText(t *testing.T) {
	long := strings.Repeat("a-long-kernel-message ", 12)
	r := &Report{
		Rows: []Row{
			{Module: "nls_utf8", Role: RoleModule, Code: "6.12.117", Predicted: load.KeepsBTF, Kernel: KernelBTF, Verdict: "identical", Agree: true, Identical: true},
			{Module: "act_bpf", Role: "hostile:split-id-out-of-range", Code: "6.12.117", Predicted: load.NoBTF, Kernel: KernelCrashed,
				Verdict: "kernel crashed in this load (in btf_relocate_map_distilled_base)", Edit: long, ModelWhy: long, Kmsg: []string{long}},
		},
		Summary: Summary{Arch: "amd64", Build: "6.12.107", Run: "6.12.117", Modules: 1, Loaded: 1, BTFKept: 1, Identical: 1,
			Accel: "tcg", AccelNote: "KVM failed, fell back to TCG: no user space after 30s under KVM (guest killed) (cached: /root/.cache/x)",
			BootVerdict: "panic", Disagreements: 1, Splat: []string{"BUG: kernel NULL pointer dereference, address: 0000000000000007", "Call Trace:", "  btf_relocate+0x1ef/0x2b0"},
			ConsoleLog: "/tmp/share/console.log", BootPhases: vm.Phases{ToTest: 1, Guest: map[string]int64{"plan": 3}}},
	}
	var b strings.Builder
	r.WriteText(&b)
	out := b.String()
	for i, l := range strings.Split(out, "\n") {
		if len(l) > reportWidth {
			t.Errorf("line %d is %d columns: %q", i+1, len(l), l)
		}
	}
	for _, want := range []string{"kernel oops (trimmed; the console log is named below):", "  console: /tmp/share/console.log",
		"  BUG: kernel NULL pointer dereference", "boot: panic in 0.0 s (tcg: KVM failed, fell back to TCG)",
		"verdict: DISAGREE: 1 rows", "\n    btf_relocate+0x1ef/0x2b0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "map[") || strings.Contains(out, "QEMU") {
		t.Errorf("Go syntax or the QEMU note in the report:\n%s", out)
	}
	r.Summary.BootVerdict, r.Summary.Disagreements = "clean", 0
	b.Reset()
	r.WriteText(&b)
	if !strings.HasSuffix(b.String(), "verdict: every row agrees with the model\n") || r.Disagree() {
		t.Errorf("agreeing report ends:\n%s", b.String())
	}
}

// TestCountScheduled: in a schedule of boots, a module not run (its
// dependency crashed), one that crashed the guest outside BTF code and
// one that hung are counted as such, not as disagreements; a crash in BTF
// code disagrees.
func TestCountScheduled(t *testing.T) {
	s := Summary{scheduled: true}
	for _, r := range []Row{
		{Role: RoleModule, Kernel: KernelNotRun},
		{Role: RoleModule, Kernel: KernelCrashed, CrashSite: "snd_probe"},
		{Role: RoleModule, Kernel: KernelCrashed, CrashSite: "btf_relocate_map_distilled_base", btfCrash: true},
		{Role: RoleModule, Kernel: KernelHung},
		{Role: RoleModule, Kernel: KernelBTF, Predicted: load.KeepsBTF, Identical: true, Agree: true, Code: "B"},
		{Role: RoleModule, Kernel: KernelInitRunning, Predicted: load.KeepsBTF, SysfsBytes: 8, Identical: true, Agree: true},
		{Role: RoleModule, Kernel: KernelInitRunning, Predicted: load.KeepsBTF, SysfsBytes: 8},
		{Role: RoleModule, Kernel: KernelHung, InInit: true, Predicted: load.KeepsBTF, SysfsBytes: 8, Identical: true},
		{Role: RoleModule, Kernel: KernelHung, InInit: true, Predicted: load.KeepsBTF, SysfsBytes: 8, InitBTFDisagrees: true},
	} {
		s.count(r, "A")
	}
	// The second init-running row's BTF is not the model's: a difference
	// and a disagreement; neither is counted as loaded. Of the two stuck
	// in their init, the identical one is hung, the other a difference
	// and a disagreement.
	if s.Modules != 9 || s.NotRun != 1 || s.Crashed != 1 || s.Hung != 2 || s.Disagreements != 3 || s.Identical != 3 ||
		s.InitRunning != 2 || s.Differences != 2 || s.Loaded != 1 {
		t.Fatalf("count: %+v", s)
	}
}

// TestJudgeDigest: BTF the guest did not copy back because its SHA-256 was
// the model's is identical; a digest that is not the model's without a
// copy is reported as missing, not as identical.
func TestJudgeDigest(t *testing.T) {
	target, model := fixture(t)
	raw := model.Marshal()
	sum := sha256.Sum256(raw)
	digest := hex.EncodeToString(sum[:])
	keeps := load.Prediction{Outcome: load.KeepsBTF, Model: model}
	boot := &vm.Boot{Result: &vm.Result{Verdict: vm.Clean}}
	rec := gotest.Record{Loaded: true, HasBTF: true, SysfsBytes: len(raw), SysfsSHA256: digest}
	row := judge(Row{Module: "m", Role: RoleModule, pred: keeps, modelSHA: digest}, gotest.Outcome{Started: true, Done: &rec}, boot, share{}, target)
	if !row.Identical || !row.Agree || row.Verdict != "identical" || row.ModelBytes != len(raw) || !bytes.Equal(row.served, raw) {
		t.Fatalf("digest match: %+v", row)
	}
	rec.SysfsSHA256 = strings.Repeat("0", 64)
	row = judge(Row{Module: "m", Role: RoleModule, pred: keeps, modelSHA: digest}, gotest.Outcome{Started: true, Done: &rec}, boot, share{}, target)
	if row.Identical || row.Agree || !strings.HasPrefix(row.Verdict, "sysfs copy missing: the guest's digest 000000000000 is not the model's") {
		t.Fatalf("digest mismatch without a copy: %+v", row)
	}
}

// TestJudgeKfuncs: a kfunc is registered by its relocated id when the
// verifier, asked at that id, gets past the set lookup under some hook
// and names that function where it refuses; every answer counts.
func TestJudgeKfuncs(t *testing.T) {
	want := []kfuncWant{{"bpf_skb_ct_lookup", 113384}, {"bpf_xdp_ct_alloc", 113390}}
	ans := func(name, hook string, id uint32, log string) gotest.KfuncAnswer {
		return gotest.KfuncAnswer{Name: name, Hook: hook, ID: id, Errno: 13, Log: log}
	}
	good := []gotest.KfuncAnswer{
		ans("bpf_skb_ct_lookup", "xdp", 113384, "Possibly NULL pointer passed to trusted arg0"),
		ans("bpf_skb_ct_lookup", "socket_filter", 113384, "calling kernel function bpf_skb_ct_lookup is not allowed"),
		ans("bpf_xdp_ct_alloc", "tc", 113390, "arg#0 expected pointer to ctx, but got scalar"),
		ans("bpf_xdp_ct_alloc", "syscall", 113390, "calling kernel function bpf_xdp_ct_alloc is not allowed"),
	}
	row := judgeKfuncs(Row{Agree: true, Verdict: "identical", kfuncs: want}, good)
	if !row.Agree || row.Verdict != "identical; 2 kfuncs found by relocated id (tc, xdp)" || len(row.Kfuncs) != 2 ||
		!slices.Equal(row.Kfuncs[0].Allowed, []string{"xdp"}) || !slices.Equal(row.Kfuncs[0].NotAllowed, []string{"socket_filter"}) {
		t.Fatalf("registered: %+v", row)
	}
	for name, answers := range map[string][]gotest.KfuncAnswer{
		"refused everywhere": {
			good[0], ans("bpf_xdp_ct_alloc", "tc", 113390, "calling kernel function bpf_xdp_ct_alloc is not allowed")},
		"another function at the id": {
			good[0], good[2], ans("bpf_xdp_ct_alloc", "syscall", 113390, "calling kernel function bpf_ct_release is not allowed")},
		"not a function": {
			good[0], good[2], ans("bpf_xdp_ct_alloc", "xdp", 113390, "kernel btf_id 113390 is not a function")},
	} {
		row := judgeKfuncs(Row{Agree: true, kfuncs: want}, answers)
		if row.Agree || row.Verdict != "DISAGREE: 1 of 2 kfuncs not found by their relocated ids in a registered set" {
			t.Errorf("%s: %+v", name, row)
		}
	}
}

// TestWriteTextLong: a report of thousands of modules lists in its table
// only what is not plainly identical, every module that did not load under
// its cause, and each boot; no line over 100 columns, long module names
// and case labels included.
func TestWriteTextLong(t *testing.T) {
	var rows []Row
	for i := range 300 {
		rows = append(rows, Row{Module: fmt.Sprintf("mod%03d", i), Role: RoleModule, Code: "6.12.117+deb13", Predicted: load.KeepsBTF,
			Kernel: KernelBTF, Verdict: "identical", Agree: true, Identical: true})
	}
	rows = append(rows,
		Row{Module: "nfs_layout_nfsv41_files_and_more", Role: "negative:two-candidates-longer", Code: "6.12.117+deb13",
			Predicted: load.NoBTF, Kernel: KernelNoBTF, Verdict: "agree: loaded, no BTF", Agree: true},
		Row{Module: "nf_conntrack", Role: RoleModule, Code: "6.12.117+deb13", Predicted: load.KeepsBTF, Kernel: KernelBTF, Agree: true,
			Identical: true, Verdict: "identical; 10 kfuncs found by relocated id (tc, xdp)", Kfuncs: []KfuncCheck{{Name: "bpf_ct_release", OK: true}}},
		Row{Module: "abituguru", Role: RoleModule, Kernel: KernelRefused, Errno: 19, Verdict: "load failed (no such device)"})
	var many []string
	for i := range 60 {
		many = append(many, fmt.Sprintf("some_driver_%02d", i))
	}
	r := &Report{Rows: rows,
		NotLoaded: []CauseGroup{{Cause: errnoHints[19], Modules: many}, {Cause: "did not return from finit_module (isolated in a boot of its own)", Modules: []string{"tcrypt"}}},
		Boots: []BootRun{{N: 1, Why: "batch 1 of 2", Steps: 2259, Verdict: "clean", Seconds: 198.2},
			{N: 3, Why: "speakup_apollo alone (stuck in boot 1)", Steps: 2, Verdict: "clean", Seconds: 10.7, Stuck: "speakup_apollo"}},
		Notes: []string{"speakup_acntsa makes speakup_apollo hang when it loads after it (boot 1, bisected in boot 11)"},
		Summary: Summary{Arch: "amd64", Build: "6.12.107+deb13", Run: "6.12.117+deb13", Modules: 303, Loaded: 302, Identical: 301,
			BTFKept: 301, BTFDropped: 1, Refused: 1, Boots: 2, BootVerdict: "clean", WallSeconds: 354.5, GuestLoadMs: 84.7, GuestOverheadMs: 15.1, scheduled: true},
	}
	var b strings.Builder
	r.WriteText(&b)
	out := b.String()
	for i, l := range strings.Split(out, "\n") {
		if len(l) > reportWidth {
			t.Errorf("line %d is %d columns: %q", i+1, len(l), l)
		}
	}
	for _, want := range []string{"303 rows; 300 identical ones and 1 not loaded are not listed here", "\nnf_conntrack ",
		"not loaded, by cause (61 modules):", "  60× ", "      some_driver_00 some_driver_01", "\n  1× did not return from finit_module",
		"\nboots:\n", "  3: speakup_apollo alone (stuck in boot 1): 2 steps, clean in 10.7 s, stuck in speakup_apollo",
		"  note: speakup_acntsa makes", "kfuncs: 1 of 1 found", "end to end: 0.8 modules compared a second"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\nmod000 ") {
		t.Errorf("an identical row is listed:\n%s", out)
	}
}
