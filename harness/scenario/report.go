package scenario

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/report"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// KernelOutcome is what the kernel did with one step.
type KernelOutcome string

const (
	KernelBTF     KernelOutcome = "btf"            // loaded, /sys/kernel/btf/<m> present
	KernelNoBTF   KernelOutcome = "no-btf"         // loaded, no BTF
	KernelRefused KernelOutcome = "load-failed"    // finit_module failed (Row.LoadErr says how)
	KernelHung    KernelOutcome = "hung"           // the guest stopped inside this load (no crash)
	KernelCrashed KernelOutcome = "crashed"        // the kernel oopsed or panicked inside this load
	KernelNotRun  KernelOutcome = "not-run"        // the boot ended before the step
	KernelAlready KernelOutcome = "already-loaded" // not judged
	// KernelInitRunning: the module's init was still at work past its
	// bound when the guest read its BTF (gotest.Plan.StopAtSlowInit): the
	// BTF is judged, the init's outcome is not known.
	KernelInitRunning KernelOutcome = "init-running"
	kernelUnjudged    KernelOutcome = ""
)

// loaded says whether the module ended up loaded.
func (k KernelOutcome) loaded() bool { return k == KernelBTF || k == KernelNoBTF }

// Roles of rows that are not catalog cases (those carry the case's label).
const (
	RoleModule     = "module"     // a selected module of the build kernel
	RoleDep        = "dep"        // a dependency loaded for one
	RoleTestModule = "testmodule" // our test module
	RoleRepro      = "repro"      // a user's module
	// RoleNative is a kfunc module as its running kernel's own build has
	// it (its own .BTF, no .BTF.base, .BTF_ids in-tree), loaded before the
	// distilled one and unloaded again: the control of its probes.
	RoleNative = "native"
	// RoleOldHeaders is a module built against the headers of the tree
	// without the patches under test (validate --old-headers): judged as
	// a case row is, on the kernel's answer alone.
	RoleOldHeaders = "oldhdr"
)

// Row is one step's result.
type Row struct {
	Module    string        `json:"module"`
	Step      string        `json:"step"`
	Role      string        `json:"role"`             // a Role* or a case label (negative:renamed, ...)
	Code      string        `json:"code"`             // whose build was loaded: the release, or "file"
	Flags     int           `json:"flags"`            // finit_module flags
	Edit      string        `json:"edit,omitempty"`   // what a case row changed
	Predicted load.Outcome  `json:"predicted"`        // the model's outcome
	ModelWhy  string        `json:"reason,omitempty"` // the model's reason for a refusal
	Kernel    KernelOutcome `json:"kernel"`
	LoadErr   string        `json:"load_error,omitempty"` // finit_module's errno and message
	Errno     int           `json:"errno,omitempty"`      // finit_module's errno (positive)
	// BTFRefused: the kernel said the load failed on the module's BTF.
	BTFRefused bool   `json:"btf_refused,omitempty"`
	Verdict    string `json:"verdict"`
	Identical  bool   `json:"identical"`
	Agree      bool   `json:"agree"`
	SysfsBytes int    `json:"sysfs_bytes"`
	ModelBytes int    `json:"model_bytes,omitempty"`
	// SysfsSHA256 is the guest's digest of the sysfs bytes when it was the
	// model's and the bytes stayed in the guest.
	SysfsSHA256 string `json:"sysfs_sha256,omitempty"`
	// BTFIDs says what was done to the module's .BTF_ids; Kfuncs how the
	// kernel registered its kfunc sets.
	BTFIDs string       `json:"btf_ids,omitempty"`
	Kfuncs []KfuncCheck `json:"kfuncs,omitempty"`
	// Programs are the probes of more than a set lookup (a write checked
	// against a module's own BTF id list), each against what it should get.
	Programs []ProgCheck `json:"programs,omitempty"`
	Cilium   string      `json:"cilium,omitempty"`
	BuiltFor string      `json:"built_for,omitempty"` // a file module's vermagic release
	Kmsg     []string    `json:"kmsg,omitempty"`      // kernel log lines about BTF
	Diff     string      `json:"diff,omitempty"`      // the differ's report on a mismatch
	Millis   int64       `json:"ms,omitempty"`
	// AtWork (a hung row): still at work when the guest's cap for a slow
	// step ended the wait (gotest.BusyCap): slow, not stuck.
	AtWork bool `json:"at_work,omitempty"`
	// InInit (a hung row): the load was stuck in the module's init, after
	// the kernel settled its BTF, which was judged (Identical, Diff);
	// InitBTFDisagrees: that BTF is not what the model says.
	InInit           bool `json:"in_init,omitempty"`
	InitBTFDisagrees bool `json:"init_btf_disagrees,omitempty"`
	// Boot is the boot the row comes from (0 in a one-boot run); Note
	// what the schedule of boots found about the module (isolated as
	// crashing, loads alone, not loaded because a dependency crashed).
	Boot int    `json:"boot,omitempty"`
	Note string `json:"note,omitempty"`
	// CrashSite is where the oops of a crashed load stopped.
	CrashSite string `json:"crash_site,omitempty"`
	// Cause is why the module did not end up loaded (causes.go), "" when
	// it did.
	Cause string `json:"cause,omitempty"`

	pred load.Prediction
	kase *cases.Case // the catalog case a case row was built from
	// modelSHA is the digest of the model's bytes (KeepsBTF); served the
	// bytes judged (the sysfs copy, or the model's when the digests
	// match); kfuncs the kfuncs the model expects registered; size the
	// module file's bytes (a boot's cost).
	modelSHA string
	served   []byte
	kfuncs   []kfuncWant
	progs    []progWant
	size     int64
	btfCrash bool // crashed in BTF code (crash site or call trace)
	// exactErrno: a refused case row must carry the fixed kernel's errno
	// (Options.ExactErrno).
	exactErrno bool
	// refuseErrno and refuseMsg: the kernel must refuse this load so, for
	// a cause outside the BTF model (ExtraModule.RefuseErrno); mustUnload:
	// a load must unload again (ExtraModule.Unload).
	refuseErrno int
	refuseMsg   string
	mustUnload  bool
}

// counted: module rows make the totals; case rows only count when they
// disagree.
func (r *Row) counted() bool {
	return r.Role == RoleModule || r.Role == RoleDep || r.Role == RoleTestModule
}

// Summary counts a scenario.
type Summary struct {
	Arch          string         `json:"-"` // in the report's header
	Build         string         `json:"-"`
	Run           string         `json:"-"`
	Modules       int            `json:"modules"`
	Loaded        int            `json:"loaded"`
	Refused       int            `json:"load_failed"` // finit_module failed
	BTFKept       int            `json:"btf_kept"`
	BTFDropped    int            `json:"btf_dropped"`
	Identical     int            `json:"identical"`
	Differences   int            `json:"differences"`   // byte differences between sysfs and model
	Disagreements int            `json:"disagreements"` // any row where kernel and model disagree
	OwnBuild      int            `json:"a_build_loaded"`
	OtherBuild    int            `json:"b_build_loaded"`
	Accel         string         `json:"accel"`
	AccelNote     string         `json:"accel_note,omitempty"`
	BootVerdict   string         `json:"boot_verdict"`
	BootDetail    string         `json:"boot_detail,omitempty"`
	BootSeconds   report.Seconds `json:"boot_seconds"`
	// CPUSeconds is the CPU time QEMU used for the boot (summed over a
	// schedule's boots): steadier than wall time on a busy host.
	CPUSeconds     report.Seconds `json:"qemu_cpu_seconds"`
	PrepareSeconds report.Seconds `json:"prepare_seconds"`
	AllowMismatch  bool           `json:"-"`
	Uname          string         `json:"uname,omitempty"`
	Taint          string         `json:"taint,omitempty"`

	// CrashSite is the function an oops stopped in ("" without one), and
	// Splat the oops trimmed for a report (vm.Splat).
	CrashSite string   `json:"crash_site,omitempty"`
	Splat     []string `json:"splat,omitempty"`
	// KASAN are the head lines of the KASAN reports the console holds:
	// any fails the scenario, though the boot ends clean.
	KASAN []string `json:"kasan,omitempty"`
	// MismatchLog is what a MODULE_ALLOW_BTF_MISMATCH=y boot logged that a
	// quiet kernel must not (Options.QuietMismatch); it fails the scenario.
	MismatchLog string `json:"mismatch_log,omitempty"`
	// ConsoleLog is the guest's serial console, kept in the share.
	ConsoleLog string `json:"console_log"`
	// BootPhases splits BootSeconds (guest uptime stamps vs wall time);
	// summed over the boots of a schedule.
	BootPhases vm.Phases `json:"boot_phases"`

	// A schedule of boots: Boots booted, the wall time of the whole run
	// (preparing, every boot, judging), the host's preparation of the
	// module files, the modules not run (a dependency crashed), isolated
	// as crashing or hanging the guest, or skipped before any boot.
	Boots              int            `json:"boots"`
	WallSeconds        report.Seconds `json:"wall_seconds"`
	HostPrepareSeconds report.Seconds `json:"host_prepare_seconds"`
	NotRun             int            `json:"not_run"`
	Crashed            int            `json:"crashed"`
	Hung               int            `json:"hung"`
	Already            int            `json:"already_loaded"`
	Skipped            int            `json:"skipped"`
	// InitRunning counts the modules whose BTF was judged while their
	// init was still at work (KernelInitRunning).
	InitRunning int `json:"init_running"`
	// GuestLoadMs and GuestOverheadMs split the guest's time per finished
	// step: finit_module, and everything else the guest does for a step
	// (records, the sysfs read and digest, a copy when the digest differs,
	// kfunc probes).
	GuestLoadMs     float64 `json:"guest_load_ms_per_module"`
	GuestOverheadMs float64 `json:"guest_overhead_ms_per_module"`

	guestSteps                         int
	guestLoadSeconds, guestStepSeconds float64
	// scheduled: the rows come from a schedule of boots, which isolates
	// what crashes or hangs instead of failing on it.
	scheduled bool
}

// addOverhead adds one boot's steps to the per-step split.
func (s *Summary) addOverhead(b *vm.Boot) {
	if b.Start == nil || b.End == nil {
		return
	}
	for _, oc := range b.Outcomes {
		if oc.Done != nil {
			s.guestSteps++
			s.guestLoadSeconds += float64(oc.Done.LoadMicros) / 1e6
		}
	}
	s.guestStepSeconds += b.End.Uptime - b.Start.Uptime
	s.setOverhead()
}

// setOverhead turns the sums into per-step milliseconds.
func (s *Summary) setOverhead() {
	if s.guestSteps == 0 {
		return
	}
	n := float64(s.guestSteps)
	s.GuestLoadMs = round2(1000 * s.guestLoadSeconds / n)
	s.GuestOverheadMs = round2(1000 * (s.guestStepSeconds - s.guestLoadSeconds) / n)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// Report is a finished scenario.
type Report struct {
	report.Header
	Rows    []Row    `json:"modules"`
	Summary Summary  `json:"summary"`
	Skipped []string `json:"skipped,omitempty"` // modules left out, with why
	Console string   `json:"-"`
	Share   string   `json:"share"`
	// Expected is set when the report is judged by recorded expectations
	// (Expect) instead of "every row agrees": what that judgement said.
	Expected *Expectation `json:"expected,omitempty"`
	// Boots are the boots of a schedule (Options.Boots), Notes what the
	// schedule found that no row says (a crash no half reproduced).
	Boots []BootRun `json:"boots,omitempty"`
	Notes []string  `json:"notes,omitempty"`
	// NotLoaded groups the modules that did not end up loaded by cause.
	NotLoaded []CauseGroup `json:"not_loaded,omitempty"`
	// Loop is the load/unload loop's verdict (Options.Loop).
	Loop *LoopResult `json:"loop,omitempty"`
}

// Expectation is the outcome of Expect on a report.
type Expectation struct {
	Met    bool   `json:"met"`
	Detail string `json:"detail"`
}

// Disagree reports any disagreement or a boot that did not complete.
func (r *Report) Disagree() bool {
	return r.Summary.Disagreements > 0 || r.Summary.BootVerdict != string(vm.Clean) ||
		len(r.Summary.KASAN) > 0 || r.Loop != nil && !r.Loop.OK || r.Summary.MismatchLog != ""
}

// count adds one judged row to the totals; build is the release whose
// modules were distilled (a row of its code was loaded with force flags).
func (s *Summary) count(r Row, build string) {
	if !r.counted() {
		if !r.Agree {
			s.Disagreements++
		}
		return
	}
	s.Modules++
	switch r.Kernel {
	case KernelBTF:
		s.Loaded++
		s.BTFKept++
	case KernelNoBTF:
		s.Loaded++
		s.BTFDropped++
	case KernelRefused:
		s.Refused++
	case KernelInitRunning:
		s.InitRunning++
	}
	if r.Identical {
		s.Identical++
	}
	// BTF the kernel served: of a loaded module, or of one whose init was
	// still at work or stuck when the guest read it.
	served := r.Kernel == KernelBTF || (r.Kernel == KernelInitRunning || r.InInit) && r.SysfsBytes > 0
	if served && r.Predicted == load.KeepsBTF && !r.Identical {
		s.Differences++
	}
	// A module the kernel refused for a reason the model does not predict
	// (no hardware, a CPU feature) is counted as refused, not disagreeing;
	// one it refused for its BTF disagrees. A module not run (a dependency
	// took the guest down) is not judged; one that crashed or hung the
	// guest outside BTF code is counted as such; in BTF code it disagrees.
	switch {
	case r.Agree:
	case r.InitBTFDisagrees:
		s.Disagreements++
	case r.Kernel == KernelRefused && !r.BTFRefused:
	case r.Kernel == KernelNotRun && s.scheduled:
		s.NotRun++
	case r.Kernel == KernelCrashed && !r.btfCrash && s.scheduled:
		s.Crashed++
	case r.Kernel == KernelHung && s.scheduled:
		s.Hung++
	case r.Kernel == KernelAlready && s.scheduled:
		s.Already++
	default:
		// In one boot (the case and hostile boots) any of those is the
		// boot's failure: it disagrees.
		s.Disagreements++
	}
	if r.Kernel.loaded() {
		if r.Code == build {
			s.OwnBuild++
		} else {
			s.OtherBuild++
		}
	}
}

// WriteText writes the report for a person and a mail to the BPF list:
// lines of at most 100 columns, one row a line, the case rows' edits and
// kernel messages, any per-type diff, the oops trimmed, then the totals and
// a verdict line that says what the exit status says.
func (r *Report) WriteText(w io.Writer) {
	table := r.Rows
	if len(table) > longTable {
		// Thousands of modules: the table lists what is not plainly
		// identical; the causes below list what did not load.
		table = nil
		for _, row := range r.Rows {
			if !(row.Identical && row.Agree && row.Note == "" && len(row.Kfuncs) == 0) && row.Kernel.loaded() {
				table = append(table, row)
			}
		}
		fmt.Fprintf(w, "%d rows; %d identical ones and %d not loaded are not listed here (--json has every row)\n",
			len(r.Rows), r.Summary.Identical-countIdenticalIn(table), countNotLoaded(r.Rows))
	}
	writeTable(w, table)
	for _, row := range r.Rows {
		if row.Role != RoleModule && row.Role != RoleDep && (row.Edit != "" || len(row.Kmsg) > 0 || row.LoadErr != "" || row.ModelWhy != "") {
			fmt.Fprintf(w, "\n%s %s", row.Role, row.Module)
			if row.BuiltFor != "" {
				fmt.Fprintf(w, " (built for %s)", row.BuiltFor)
			}
			fmt.Fprintln(w, ":")
			wrap(w, "  edit: ", row.Edit)
			wrap(w, "  verdict: ", row.Verdict)
			wrap(w, "  model: ", row.ModelWhy)
			wrap(w, "  finit_module: ", row.LoadErr)
			for _, l := range row.Kmsg {
				wrap(w, "  kernel: ", l)
			}
		}
		if row.Diff != "" {
			fmt.Fprintf(w, "\n%s", row.Diff)
		}
	}
	s := r.Summary
	if len(s.Splat) > 0 {
		fmt.Fprintf(w, "\nkernel oops (trimmed; the console log is named below):\n")
		for _, l := range s.Splat {
			fmt.Fprintf(w, "  %s\n", clip(l, reportWidth-2))
		}
	}
	if len(s.KASAN) > 0 {
		fmt.Fprintf(w, "\nKASAN: %d reports (the boot went on; each fails the scenario):\n", len(s.KASAN))
		for _, l := range s.KASAN {
			fmt.Fprintf(w, "  %s\n", clip(l, reportWidth-2))
		}
	}
	if r.Loop != nil {
		r.Loop.writeText(w)
	}
	if s.MismatchLog != "" {
		wrap(w, "\nMODULE_ALLOW_BTF_MISMATCH=y, not quiet: ", s.MismatchLog)
	}
	if len(r.NotLoaded) > 0 {
		n := 0
		for _, g := range r.NotLoaded {
			n += len(g.Modules)
		}
		fmt.Fprintf(w, "\nnot loaded, by cause (%d modules):\n", n)
		for _, g := range r.NotLoaded {
			wrap(w, fmt.Sprintf("  %d× ", len(g.Modules)), g.Cause)
			wrap(w, "      ", strings.Join(g.Modules, " "))
		}
	}
	if len(r.Boots) > 0 {
		fmt.Fprintf(w, "\nboots:\n")
		for _, b := range r.Boots {
			line := fmt.Sprintf("%d: %s: %d steps, %s in %.1f s", b.N, b.Why, b.Steps, b.Verdict, b.Seconds)
			if b.Stuck != "" {
				line += ", stuck in " + b.Stuck
			}
			if b.CrashSite != "" {
				line += " (oops in " + b.CrashSite + ")"
			}
			wrap(w, "  ", line)
		}
		for _, n := range r.Notes {
			wrap(w, "  note: ", n)
		}
	}
	if s.Modules > 0 {
		fmt.Fprintf(w, "\n%s: modules built for %s, loaded on %s (MODULE_ALLOW_BTF_MISMATCH=%s)\n", s.Arch, s.Build, s.Run, yn(s.AllowMismatch))
		fmt.Fprintf(w, "  modules %d: loaded %d (%s's code %d, %s's code %d), load refused %d\n",
			s.Modules, s.Loaded, s.Build, s.OwnBuild, s.Run, s.OtherBuild, s.Refused)
		if s.scheduled || s.Skipped > 0 {
			fmt.Fprintf(w, "  crashed %d, hung %d, already loaded %d, not run %d, skipped before any boot %d\n",
				s.Crashed, s.Hung, s.Already, s.NotRun, s.Skipped)
			if s.InitRunning > 0 {
				fmt.Fprintf(w, "  init still at work when its BTF was judged (not waited for) %d\n", s.InitRunning)
			}
		}
		fmt.Fprintf(w, "  BTF kept %d (%d byte-identical, %d different), dropped %d\n", s.BTFKept, s.Identical, s.Differences, s.BTFDropped)
		if k, n := kfuncTotals(r.Rows); n > 0 {
			fmt.Fprintf(w, "  kfuncs: %d of %d found by their relocated ids in the sets the kernel registered\n", k, n)
		}
	} else {
		fmt.Fprintf(w, "\n%s: loaded on %s (MODULE_ALLOW_BTF_MISMATCH=%s)\n", s.Arch, s.Run, yn(s.AllowMismatch))
	}
	if s.Boots > 1 {
		fmt.Fprintf(w, "  boots %d: %s, %.1f s of boots (emulator CPU %.1f s) in %.1f s of wall time (%s)\n",
			s.Boots, s.BootVerdict, s.BootSeconds, s.CPUSeconds, s.WallSeconds, accelShort(s.Accel, s.AccelNote))
		fmt.Fprintf(w, "  prepare: host %.1f s (every module file), guest %.1f s (test binary, initramfs)\n", s.HostPrepareSeconds, s.PrepareSeconds)
	} else {
		fmt.Fprintf(w, "  boot: %s in %.1f s (%s), emulator CPU %.1f s, prepare %.1f s\n",
			s.BootVerdict, s.BootSeconds, accelShort(s.Accel, s.AccelNote), s.CPUSeconds, s.PrepareSeconds)
	}
	if s.GuestLoadMs > 0 || s.GuestOverheadMs > 0 {
		fmt.Fprintf(w, "  guest per module: finit_module %.1f ms, the guest's own work %.1f ms\n", s.GuestLoadMs, s.GuestOverheadMs)
		if s.WallSeconds > 0 {
			fmt.Fprintf(w, "  end to end: %.1f modules compared a second\n", float64(s.Identical+s.Differences)/float64(s.WallSeconds))
		}
	}
	if s.BootDetail != "" {
		wrap(w, "  boot detail: ", s.BootDetail)
	}
	if p := s.BootPhases; p.ToTest > 0 {
		fmt.Fprintf(w, "  boot phases: to the guest test %.1f s, set-up %.1f s, steps %.1f s, shutdown %.1f s, off-clock %.1f s\n",
			p.ToTest, p.Setup, p.Steps, p.Shutdown, p.Outside)
	}
	if len(r.Skipped) > 0 && len(r.NotLoaded) == 0 {
		wrap(w, fmt.Sprintf("  skipped %d modules, first: ", len(r.Skipped)), r.Skipped[0])
	}
	wrap(w, "  console: ", s.ConsoleLog)
	switch {
	case r.Expected != nil && r.Expected.Met:
		wrap(w, "verdict: ", "recorded expectations met: "+r.Expected.Detail)
	case r.Expected != nil:
		wrap(w, "verdict: ", "RECORDED EXPECTATIONS NOT MET: "+r.Expected.Detail)
	case r.Disagree():
		fmt.Fprintf(w, "verdict: DISAGREE: %d rows where kernel and model disagree, %d byte differences, boot %s%s\n",
			s.Disagreements, s.Differences, s.BootVerdict, r.failNote())
	default:
		fmt.Fprintln(w, "verdict: every row agrees with the model")
	}
}

// longTable is the most rows a text report lists whole.
const longTable = 200

func countIdenticalIn(rows []Row) int {
	n := 0
	for _, r := range rows {
		if r.Identical && r.counted() {
			n++
		}
	}
	return n
}

func countNotLoaded(rows []Row) int {
	n := 0
	for _, r := range rows {
		if !r.Kernel.loaded() {
			n++
		}
	}
	return n
}

// kfuncTotals counts the kfuncs found by relocated id, of those probed.
func kfuncTotals(rows []Row) (ok, n int) {
	for _, r := range rows {
		for _, k := range r.Kfuncs {
			n++
			if k.OK {
				ok++
			}
		}
	}
	return ok, n
}

// writeTable writes one line a row, the verdict clipped to keep the line
// within reportWidth.
func writeTable(w io.Writer, rows []Row) {
	head := []string{"MODULE", "ROLE", "CODE", "PREDICTED", "KERNEL", "BYTES"}
	cells := [][]string{head}
	for _, r := range rows {
		cells = append(cells, []string{r.Module, r.Role, r.Code, string(r.Predicted), string(r.Kernel), fmt.Sprint(r.SysfsBytes)})
	}
	width := make([]int, len(head))
	for _, c := range cells {
		for i, v := range c {
			width[i] = max(width[i], len(v))
		}
	}
	used := func() int {
		n := 0
		for _, x := range width {
			n += x + 2
		}
		return n
	}
	// Long module names and case labels give way (clipped) before the
	// verdict has fewer than minVerdict columns.
	const minVerdict = 24
	for used() > reportWidth-minVerdict && max(width[0], width[1]) > 12 {
		if width[0] >= width[1] {
			width[0]--
		} else {
			width[1]--
		}
	}
	for i, c := range cells {
		var b strings.Builder
		for j, v := range c {
			fmt.Fprintf(&b, "%-*s  ", width[j], clip(v, width[j]))
		}
		verdict := "VERDICT"
		if i > 0 {
			verdict = rows[i-1].Verdict
		}
		fmt.Fprintln(w, b.String()+clip(verdict, max(reportWidth-used(), 8)))
	}
}

// reportWidth is the widest line a report writes.
const reportWidth = report.Width

func wrap(w io.Writer, prefix, text string) { report.Wrap(w, prefix, text) }

// clip shortens s to n columns for a table cell.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// accelShort is the accelerator and, when it was not the one asked for,
// why, in a few words (the QEMU message stays in the JSON).
func accelShort(accel, note string) string {
	if note == "" {
		return accel
	}
	if i := strings.IndexAny(note, ":("); i > 0 {
		note = strings.TrimSpace(note[:i])
	}
	return accel + ": " + clip(note, 40)
}

func yn(b bool) string {
	if b {
		return "y"
	}
	return "n"
}

// failNote names what fails a report besides its rows and boot verdict.
func (r *Report) failNote() string {
	var n string
	if k := len(r.Summary.KASAN); k > 0 {
		n += fmt.Sprintf(", %d KASAN reports", k)
	}
	if r.Loop != nil && !r.Loop.OK {
		n += fmt.Sprintf(", load/unload loop: %d failures", len(r.Loop.Failures))
	}
	if r.Summary.MismatchLog != "" {
		n += ", MODULE_ALLOW_BTF_MISMATCH=y log not quiet"
	}
	return n
}
