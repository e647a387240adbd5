//go:build !lean

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/cases"
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
		fmt.Fprintf(e.stderr, "usage: btfrecon vm %s\n\nexample:\n  %s\n\n'btfrecon vm run --help' lists the flags.\n", verbs["vm"].usage, examples["vm"])
		return nil
	}
	return usageError{fmt.Sprintf("unknown sub-verb %q (run)", args[0])}
}

// kernelPathHelp says what a kernel path may be (kernels.OpenPath).
const kernelPathHelp = "a build directory with vmlinux, arch/x86/boot/bzImage or arch/arm64/boot/Image, .config, and its modules " +
	"in the tree or installed by make modules_install INSTALL_MOD_PATH=DIR; or a directory holding vmlinux, a boot image and lib/modules/; " +
	"an argument with a '/' or naming a directory is a path"

// vmFlags are the flags vm run and repro share.
type vmFlags struct {
	arch, accel   string
	cpu           string
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
	fs.StringVar(&f.cpu, "cpu", "", "QEMU -cpu model (default: max under TCG, every feature TCG emulates; host under KVM; "+vm.TCGBaselineCPU+" is QEMU's own x86 default)")
	fs.DurationVar(&f.timeout, "timeout", 20*time.Minute, "bound on the boot; a guest still running then is a hang (with --boots each boot is bounded by its plan and a watch on its progress instead)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the report as JSON")
	fs.BoolVar(&f.console, "console", false, "copy the guest's serial console to stderr")
	fs.BoolVar(&f.keep, "keep", false, "keep the whole share (module files, the guest's BTF copies) after the run")
}

func (f *vmFlags) vmOptions(e *env) []vm.Option {
	o := []vm.Option{vm.Timeout(f.timeout), vm.WithAccel(vm.Accel(f.accel))}
	if f.cpu != "" {
		o = append(o, vm.CPU(f.cpu))
	}
	if f.console {
		o = append(o, vm.Console(e.stderr))
	}
	return o
}

func runVMRun(e *env, args []string) error {
	fs := newFlags(e, "vm")
	var f vmFlags
	f.add(fs)
	build := fs.String("build", "6.12.107", "kernel A: the modules' BTF is made against it (a catalog release, or the path of a kernel you built: "+kernelPathHelp+")")
	run := fs.String("run", "6.12.117", "kernel B: booted (a catalog release, or the path of a kernel you built: "+kernelPathHelp+")")
	modules := fs.String("modules", "all-loadable", "comma-separated module names, all-loadable, or all (every module both packages hold, spread over boots: --boots)")
	boots := fs.Int("boots", 0, "spread the modules over this many boots at the start, a boot that ends early isolating its stuck module "+
		"and booting the rest again (0: one boot, a crash ends the run; --modules all: as many as --parallel)")
	parallel := fs.Int("parallel", runtime.NumCPU(), "boots at a time (each TCG guest runs on one host CPU)")
	extraBoots := fs.Int("extra-boots", 24, "with --boots: at most this many more boots to isolate, bisect or retry")
	memory := fs.Int("memory", 0, "guest memory in MiB (default 1024; 2048 with --modules all)")
	stepTimeout := fs.Duration("step-timeout", 0, "bound on one module load in the guest, more for a big module or one an earlier run timed (default 120s; 20s with --modules all)")
	limit := fs.Int("limit", 0, "at most this many selected modules (dependencies come on top); 0: all")
	extra := fs.Bool("negative", true, "add the before/after and negative rows")
	hostile := fs.Bool("hostile", false, "add the hostile rows (they may crash the guest: give them their own boot)")
	testmod := fs.String("testmodule", "", "our test module (.ko built against --build, without .BTF.base) to add")
	cycle := fs.Bool("cycle", false, "boot only the typedef-cycle row (--case hostile:typedef-cycle)")
	one := fs.String("case", "", "boot only this catalog case (a label such as hostile:array-cycle), built from one module (--modules, default nls_utf8)")
	work := fs.String("work", "", "directory shared with the guest (default: a new one under the cache)")
	expect := fs.String("expect", "", "judge the report by the case catalog's recorded kernel outcomes instead of \"every row agrees\": "+
		"hostile (a recorded oops row crashes at its recorded site, every other hostile row is refused without a crash), "+
		"cycle or case (the row does what is recorded for the booted kernel: refused with its message, a hang, an oops, a load with BTF)")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if f.arch != "amd64" && f.arch != "arm64" {
		return usageError{"--arch must be amd64 or arm64"}
	}
	if *expect != "" && *expect != "hostile" && *expect != "cycle" && *expect != "case" {
		return usageError{"--expect must be hostile, cycle or case"}
	}
	if *cycle {
		*one = "hostile:typedef-cycle"
	}
	o := scenario.Options{Arch: f.arch, Build: *build, Run: *run, Limit: *limit, Work: *work, Keep: f.keep,
		Progress: e.stderr, VM: f.vmOptions(e), Boots: *boots, Parallel: *parallel, ExtraBoots: *extraBoots, StepTimeout: *stepTimeout}
	switch *modules {
	case "all-loadable":
	case "all":
		o.All = true
		if o.Boots == 0 {
			o.Boots = max(*parallel, 1)
		}
		if *memory == 0 {
			*memory = 2048
		}
		if o.StepTimeout == 0 {
			// Most loads take 30-80 ms under TCG; a load still running
			// after 20 s (past its size's and its last run's share) is
			// stuck, and its boot stops there.
			o.StepTimeout = 20 * time.Second
		}
	default:
		o.Modules = strings.Split(*modules, ",")
	}
	if *boots < 0 || *parallel < 1 || *extraBoots < 0 || *memory < 0 || *stepTimeout < 0 {
		return usageError{"--boots, --extra-boots, --memory and --step-timeout must not be negative, --parallel at least 1"}
	}
	if *memory > 0 {
		o.VM = append(o.VM, vm.Memory(*memory))
	}
	switch {
	case *one != "":
		// One case alone, built from one leaf module of A: an upstream
		// kernel may spin on it, so the boot is bounded.
		c, ok := cases.ByLabel(*one)
		if !ok {
			var labels []string
			for _, c := range cases.Module() {
				labels = append(labels, c.Label())
			}
			return usageError{fmt.Sprintf("--case %s: no such case (%s)", *one, strings.Join(labels, ", "))}
		}
		if o.Modules == nil {
			o.Modules = []string{"nls_utf8"}
		}
		o.Cases = []cases.Case{c}
		o.VM = append(o.VM, vm.Timeout(min(f.timeout, 4*time.Minute)))
	case *extra && *hostile:
		o.Cases = cases.Select(false, cases.Stale, cases.Negative, cases.Hostile)
	case *extra:
		o.Cases = cases.Select(false, cases.Stale, cases.Negative)
	case *hostile:
		o.Cases = cases.Select(false, cases.Hostile)
	}
	if *testmod != "" {
		o.Extra = append(o.Extra, scenario.ExtraModule{Role: scenario.RoleTestModule, Path: *testmod, Distill: true, Flags: gotest.ForceFlags})
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := scenario.Run(ctx, o)
	if err != nil {
		return err
	}
	if *one != "" && !hasRole(rep, *one) {
		writeReport(e, rep, f.jsonOut)
		return verdictError{fmt.Errorf("--case %s: no module of --modules %s could give it (try another, e.g. --modules act_bpf)", *one, strings.Join(o.Modules, ","))}
	}
	if *expect == "" {
		return writeReport(e, rep, f.jsonOut)
	}
	var want []cases.Case
	for _, c := range o.Cases {
		if c.Class == cases.Hostile {
			want = append(want, c)
		}
	}
	err = scenario.Expect(rep, want)
	rep.Expected = &scenario.Expectation{Met: err == nil, Detail: fmt.Sprintf("%s (boot %s, crash site %q)", *expect, rep.Summary.BootVerdict, rep.Summary.CrashSite)}
	if err != nil {
		rep.Expected.Detail = err.Error()
	}
	return writeReport(e, rep, f.jsonOut)
}

func hasRole(rep *scenario.Report, role string) bool {
	for _, r := range rep.Rows {
		if r.Role == role {
			return true
		}
	}
	return false
}

func writeReport(e *env, rep *scenario.Report, jsonOut bool) error {
	if jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.WriteText(e.stdout)
	}
	switch {
	case rep.Expected != nil && !rep.Expected.Met:
		return verdictError{errors.New(rep.Expected.Detail)}
	case rep.Expected != nil:
		return nil
	case rep.Disagree():
		return verdictError{fmt.Errorf("%d disagreements, %d byte differences, boot %s %s",
			rep.Summary.Disagreements, rep.Summary.Differences, rep.Summary.BootVerdict, rep.Summary.BootDetail)}
	}
	return nil
}

// runRepro loads a user's module on a Debian kernel or one the user built and reports.
func runRepro(e *env, args []string) error {
	fs := newFlags(e, "repro")
	var f vmFlags
	f.add(fs)
	run := fs.String("run", "6.12.117", "the kernel to boot: a catalog release, or the path of a kernel you built ("+kernelPathHelp+")")
	force := fs.Bool("force", true, "load with MODULE_INIT_IGNORE_MODVERSIONS|IGNORE_VERMAGIC")
	bad := fs.Bool("allow-bad-input", false, "boot a module the model cannot read (malformed ELF or sections) unchanged, to see what the kernel does")
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
		Extra: []scenario.ExtraModule{{Role: scenario.RoleRepro, Path: pos[0], Flags: flags, AsIs: *bad}}, Keep: f.keep,
		Progress: e.stderr, VM: f.vmOptions(e)})
	if err != nil {
		return err
	}
	return writeReport(e, rep, f.jsonOut)
}
