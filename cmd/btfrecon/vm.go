package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/harness/scenario"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// runVM dispatches `btfrecon vm SUBVERB`.
func runVM(e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"missing sub-verb (run)"}
	}
	switch args[0] {
	case "run":
		return runVMRun(e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stderr, "usage: btfrecon vm %s\n", verbs["vm"].usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown sub-verb %q (run)", args[0])}
}

// vmFlags are the flags vm run and repro share.
type vmFlags struct {
	arch, accel   string
	timeout       time.Duration
	jsonOut, keep bool
	console       bool
}

func (f *vmFlags) add(fs interface {
	StringVar(*string, string, string, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&f.arch, "arch", "amd64", "guest architecture: amd64 or arm64")
	fs.StringVar(&f.accel, "accel", "auto", "QEMU accelerator: auto (KVM if it works, else TCG), kvm or tcg")
	fs.DurationVar(&f.timeout, "timeout", 20*time.Minute, "bound on the boot; a guest still running then is a hang")
	fs.BoolVar(&f.jsonOut, "json", false, "print the report as JSON")
	fs.BoolVar(&f.console, "console", false, "copy the guest's serial console to stderr")
}

func (f *vmFlags) vmOptions(e *env) []vm.Option {
	o := []vm.Option{vm.Timeout(f.timeout), vm.WithAccel(vm.Accel(f.accel))}
	if f.console {
		o = append(o, vm.Console(e.stderr))
	}
	return o
}

func runVMRun(e *env, args []string) error {
	fs := newFlags(e, "vm")
	var f vmFlags
	f.add(fs)
	build := fs.String("build", "6.12.107", "kernel A: the modules' BTF is made against it (a catalog release)")
	run := fs.String("run", "6.12.117", "kernel B: booted (a catalog release)")
	modules := fs.String("modules", "all-loadable", "comma-separated module names, or all-loadable")
	limit := fs.Int("limit", 0, "at most this many selected modules (dependencies come on top); 0: all")
	extra := fs.Bool("negative", true, "add the before/after and negative rows")
	hostile := fs.Bool("hostile", false, "add the hostile .BTF.base rows (they may crash the guest: give them their own boot)")
	testmod := fs.String("testmodule", "", "our test module (.ko built against --build, without .BTF.base) to add")
	cycle := fs.Bool("cycle", false, "boot only the typedef-cycle row (a split typedef loop under a struct member)")
	work := fs.String("work", "", "directory shared with the guest (default: a new one under the cache)")
	expect := fs.String("expect", "", "judge the report by a recorded expectation instead of \"every row agrees\": hostile (the known 6.12.117 oops row crashes at its recorded site, every other hostile row is refused without a crash) or cycle (the kernel drops the BTF with \"Max chain length or cycle detected\", the model refuses)")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if f.arch != "amd64" && f.arch != "arm64" {
		return usageError{"--arch must be amd64 or arm64"}
	}
	var judge func(*scenario.Report) error
	switch *expect {
	case "":
	case "hostile":
		judge = scenario.ExpectHostile
	case "cycle":
		judge = scenario.ExpectCycle
	default:
		return usageError{"--expect must be hostile or cycle"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o := scenario.Options{Arch: f.arch, Build: *build, Run: *run, Limit: *limit, Work: *work,
		Progress: e.stderr, VM: f.vmOptions(e)}
	if *modules != "all-loadable" {
		o.Modules = strings.Split(*modules, ",")
	}
	if !*cycle {
		o.BeforeAfter, o.Negatives, o.Hostile = *extra, *extra, *hostile
	}
	if *testmod != "" || *cycle {
		a, err := kernels.Open(*build, f.arch)
		if err != nil {
			return err
		}
		raw, err := a.VmlinuxBTF()
		if err != nil {
			return err
		}
		abtf, err := btf.Parse(raw)
		if err != nil {
			return err
		}
		if *testmod != "" {
			o.Extra = append(o.Extra, scenario.ExtraModule{Role: "testmodule", Path: *testmod, BuildBTF: abtf, Flags: gotest.ForceFlags})
		}
		if *cycle {
			// The cycle row alone: one leaf module of A, loaded with force.
			mod := "nls_utf8"
			if o.Modules != nil {
				mod = o.Modules[0]
			}
			p, err := a.Module(mod)
			if err != nil {
				return err
			}
			o.Modules = []string{}
			o.Extra = append(o.Extra, scenario.ExtraModule{Role: "cycle", Path: p, BuildBTF: abtf, Flags: gotest.ForceFlags, Mutate: scenario.Cycle})
			o.VM = append(o.VM, vm.Timeout(min(f.timeout, 5*time.Minute)))
		}
	}
	rep, err := scenario.Run(ctx, o)
	if err != nil {
		return err
	}
	if judge == nil {
		return report(e, rep, f.jsonOut)
	}
	report(e, rep, f.jsonOut) // its "disagreement" verdict is replaced by the expectation's
	if err := judge(rep); err != nil {
		return verdictError{err}
	}
	fmt.Fprintf(e.stderr, "vm run: %s expectations met (boot %s%s, crash site %q)\n", *expect, rep.Summary.BootVerdict, detailSuffix(rep.Summary.BootDetail), rep.Summary.CrashSite)
	return nil
}

func report(e *env, rep *scenario.Report, jsonOut bool) error {
	if jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeTable(e.stdout, rep)
	}
	if rep.Disagree() {
		return verdictError{fmt.Errorf("%d disagreements, %d byte differences, boot %s %s",
			rep.Summary.Disagreements, rep.Summary.Differences, rep.Summary.BootVerdict, rep.Summary.BootDetail)}
	}
	return nil
}

func writeTable(w io.Writer, rep *scenario.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODULE\tROLE\tCODE\tPREDICTED\tKERNEL\tBYTES\tVERDICT")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Module, r.Role, r.Code, r.Predicted, short(r.Kernel, 40), r.SysfsBytes, r.Verdict)
	}
	tw.Flush()
	for _, r := range rep.Rows {
		if r.Role != "module" && r.Role != "dep" && (r.Edit != "" || len(r.Kmsg) > 0) {
			fmt.Fprintf(w, "\n%s %s: %s\n", r.Role, r.Module, r.Edit)
			if r.ModelWhy != "" {
				fmt.Fprintf(w, "  model: %s\n", r.ModelWhy)
			}
			for _, l := range r.Kmsg {
				fmt.Fprintf(w, "  kernel: %s\n", l)
			}
		}
		if r.Diff != "" {
			fmt.Fprintf(w, "\n%s", r.Diff)
		}
	}
	s := rep.Summary
	if s.Modules == 0 { // repro: the rows above are the whole story
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "\n%s %s -> %s: %d modules, %d loaded (%d of %s's build with force flags, %d of %s's build), %d refused; BTF kept %d, dropped %d; %d byte-identical, %d byte differences, %d disagreements\n",
			s.Arch, s.Build, s.Run, s.Modules, s.Loaded, s.OwnBuild, s.Build, s.OtherBuild, s.Run, s.Refused, s.BTFKept, s.BTFDropped, s.Identical, s.Differences, s.Disagreements)
	}
	fmt.Fprintf(w, "boot: %s in %.1f s (accel %s: %s), prepare %.1f s; MODULE_ALLOW_BTF_MISMATCH=%v; share %s\n",
		s.BootVerdict+detailSuffix(s.BootDetail), s.BootSeconds, s.Accel, s.AccelNote, s.PrepareSeconds, s.AllowMismatch, rep.Share)
	if p := s.BootPhases; p.ToTest > 0 {
		fmt.Fprintf(w, "boot phases: %.1f s kernel clock to the guest test (kernel, init, 9p, test binary), %.1f s guest set-up %v, %.1f s steps, %.1f s shutdown, %.1f s off the kernel clock (QEMU, firmware, decompression)\n",
			p.ToTest, p.Setup, p.Guest, p.Steps, p.Shutdown, p.Outside)
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(w, "skipped %d modules (first: %s)\n", len(rep.Skipped), rep.Skipped[0])
	}
}

func detailSuffix(d string) string {
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}

func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// runRepro loads a user's module on a catalog kernel and reports.
func runRepro(e *env, args []string) error {
	fs := newFlags(e, "repro")
	var f vmFlags
	f.add(fs)
	run := fs.String("run", "6.12.117", "the catalog kernel to boot")
	force := fs.Bool("force", true, "load with MODULE_INIT_IGNORE_MODVERSIONS|IGNORE_VERMAGIC")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want one MODULE.ko"}
	}
	flags := 0
	if *force {
		flags = gotest.ForceFlags
	}
	if f.arch == "" {
		f.arch = runtime.GOARCH
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := scenario.Run(ctx, scenario.Options{Arch: f.arch, Build: *run, Run: *run, Modules: []string{},
		Extra:    []scenario.ExtraModule{{Role: "repro", Path: pos[0], Flags: flags}},
		Progress: e.stderr, VM: f.vmOptions(e)})
	if err != nil {
		return err
	}
	if !f.jsonOut {
		for _, r := range rep.Rows {
			fmt.Fprintf(e.stdout, "module %s on %s: kernel: %s; model: %s %s\n", r.Module, *run, r.Kernel, r.Predicted, r.ModelWhy)
			for _, l := range r.Kmsg {
				fmt.Fprintf(e.stdout, "  kernel log: %s\n", l)
			}
		}
	}
	return report(e, rep, f.jsonOut)
}
