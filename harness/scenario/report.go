package scenario

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// KernelOutcome is what the kernel did with one step.
type KernelOutcome string

const (
	KernelBTF      KernelOutcome = "btf"            // loaded, /sys/kernel/btf/<m> present
	KernelNoBTF    KernelOutcome = "no-btf"         // loaded, no BTF
	KernelRefused  KernelOutcome = "load-failed"    // finit_module failed (Row.LoadErr says how)
	KernelHung     KernelOutcome = "hung"           // the guest stopped inside this load
	KernelNotRun   KernelOutcome = "not-run"        // the boot ended before the step
	KernelAlready  KernelOutcome = "already-loaded" // not judged
	kernelUnjudged KernelOutcome = ""
)

// loaded says whether the module ended up loaded.
func (k KernelOutcome) loaded() bool { return k == KernelBTF || k == KernelNoBTF }

// Roles of rows that are not catalog cases (those carry the case's label).
const (
	RoleModule     = "module"     // a selected module of the build kernel
	RoleDep        = "dep"        // a dependency loaded for one
	RoleTestModule = "testmodule" // our test module
	RoleRepro      = "repro"      // a user's module
)

// Row is one step's result.
type Row struct {
	Module     string        `json:"module"`
	Step       string        `json:"step"`
	Role       string        `json:"role"`            // a Role* or a case label (negative:renamed, ...)
	Code       string        `json:"code"`            // whose build was loaded: the release, or "file"
	Flags      int           `json:"flags"`           // finit_module flags
	Edit       string        `json:"edit,omitempty"`  // what a case row changed
	Predicted  load.Outcome  `json:"predicted"`       // the model's outcome
	ModelWhy   string        `json:"model,omitempty"` // the model's reason for a refusal
	Kernel     KernelOutcome `json:"kernel"`
	LoadErr    string        `json:"load_error,omitempty"` // finit_module's errno and message
	Verdict    string        `json:"verdict"`
	Identical  bool          `json:"identical"`
	Agree      bool          `json:"agree"`
	SysfsBytes int           `json:"sysfs_bytes"`
	ModelBytes int           `json:"model_bytes,omitempty"`
	Cilium     string        `json:"cilium,omitempty"`
	Kmsg       []string      `json:"kmsg,omitempty"` // kernel log lines about BTF
	Diff       string        `json:"diff,omitempty"` // the differ's report on a mismatch
	Millis     int64         `json:"ms,omitempty"`

	pred load.Prediction
	kase *cases.Case // the catalog case a case row was built from
}

// counted: module rows make the totals; case rows only count when they
// disagree.
func (r *Row) counted() bool {
	return r.Role == RoleModule || r.Role == RoleDep || r.Role == RoleTestModule
}

// Summary counts a scenario.
type Summary struct {
	Arch           string  `json:"arch"`
	Build          string  `json:"build"`
	Run            string  `json:"run"`
	Modules        int     `json:"modules"`
	Loaded         int     `json:"loaded"`
	Refused        int     `json:"refused"` // finit_module failed
	BTFKept        int     `json:"btf_kept"`
	BTFDropped     int     `json:"btf_dropped"`
	Identical      int     `json:"identical"`
	Differences    int     `json:"differences"`   // byte differences between sysfs and model
	Disagreements  int     `json:"disagreements"` // any row where kernel and model disagree
	OwnBuild       int     `json:"a_build_loaded"`
	OtherBuild     int     `json:"b_build_loaded"`
	Accel          string  `json:"accel"`
	AccelNote      string  `json:"accel_note,omitempty"`
	BootVerdict    string  `json:"boot_verdict"`
	BootDetail     string  `json:"boot_detail,omitempty"`
	BootSeconds    float64 `json:"boot_seconds"`
	PrepareSeconds float64 `json:"prepare_seconds"`
	AllowMismatch  bool    `json:"module_allow_btf_mismatch"`
	Uname          string  `json:"uname,omitempty"`
	Taint          string  `json:"taint,omitempty"`

	// CrashSite is the function an oops stopped in ("" without one).
	CrashSite string `json:"crash_site,omitempty"`
	// BootPhases splits BootSeconds (guest uptime stamps vs wall time).
	BootPhases vm.Phases `json:"boot_phases"`
}

// Report is a finished scenario.
type Report struct {
	Rows    []Row    `json:"modules"`
	Summary Summary  `json:"summary"`
	Skipped []string `json:"skipped,omitempty"` // modules left out, with why
	Console string   `json:"-"`
	Share   string   `json:"share"`
}

// Disagree reports any disagreement or a boot that did not complete.
func (r *Report) Disagree() bool {
	return r.Summary.Disagreements > 0 || r.Summary.BootVerdict != string(vm.Clean)
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
	}
	if r.Identical {
		s.Identical++
	}
	if r.Kernel == KernelBTF && r.Predicted == load.KeepsBTF && !r.Identical {
		s.Differences++
	}
	// A module the kernel refused for a reason the model does not predict
	// (no hardware, a CPU feature) is counted as refused, not disagreeing.
	if !r.Agree && r.Kernel != KernelRefused {
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

// WriteText writes the report for a person: one line a row, the case rows'
// edits and kernel messages, any per-type diff, then the totals.
func (r *Report) WriteText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODULE\tROLE\tCODE\tPREDICTED\tKERNEL\tBYTES\tVERDICT")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", row.Module, row.Role, row.Code, row.Predicted, row.Kernel, row.SysfsBytes, row.Verdict)
	}
	tw.Flush()
	for _, row := range r.Rows {
		if row.Role != RoleModule && row.Role != RoleDep && (row.Edit != "" || len(row.Kmsg) > 0 || row.LoadErr != "") {
			fmt.Fprintf(w, "\n%s %s: %s\n", row.Role, row.Module, row.Edit)
			if row.ModelWhy != "" {
				fmt.Fprintf(w, "  model: %s\n", row.ModelWhy)
			}
			if row.LoadErr != "" {
				fmt.Fprintf(w, "  finit_module: %s\n", row.LoadErr)
			}
			for _, l := range row.Kmsg {
				fmt.Fprintf(w, "  kernel: %s\n", l)
			}
		}
		if row.Diff != "" {
			fmt.Fprintf(w, "\n%s", row.Diff)
		}
	}
	s := r.Summary
	if s.Modules == 0 { // repro: the rows above are the whole story
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "\n%s %s -> %s: %d modules, %d loaded (%d of %s's build with force flags, %d of %s's build), %d refused; "+
			"BTF kept %d, dropped %d; %d byte-identical, %d byte differences, %d disagreements\n",
			s.Arch, s.Build, s.Run, s.Modules, s.Loaded, s.OwnBuild, s.Build, s.OtherBuild, s.Run, s.Refused,
			s.BTFKept, s.BTFDropped, s.Identical, s.Differences, s.Disagreements)
	}
	fmt.Fprintf(w, "boot: %s in %.1f s (accel %s: %s), prepare %.1f s; MODULE_ALLOW_BTF_MISMATCH=%v; share %s\n",
		s.BootVerdict+parens(s.BootDetail), s.BootSeconds, s.Accel, s.AccelNote, s.PrepareSeconds, s.AllowMismatch, r.Share)
	if p := s.BootPhases; p.ToTest > 0 {
		fmt.Fprintf(w, "boot phases: %.1f s kernel clock to the guest test (kernel, init, 9p, test binary), %.1f s guest set-up %v, "+
			"%.1f s steps, %.1f s shutdown, %.1f s off the kernel clock (QEMU, firmware, decompression)\n",
			p.ToTest, p.Setup, p.Guest, p.Steps, p.Shutdown, p.Outside)
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "skipped %d modules (first: %s)\n", len(r.Skipped), r.Skipped[0])
	}
}

func parens(d string) string {
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}
