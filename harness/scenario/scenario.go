// Package scenario runs one reconciliation scenario: modules whose BTF was
// made against build kernel A, distilled by the model, loaded in one boot
// of running kernel B, and what the kernel served compared with what the
// model predicts. The pipeline, one file each: prepare (module files and
// predictions), rows (the catalog's case rows), the boot (harness/vm),
// judge (kernel against model, row by row) and report (totals and text).
//
// Which module code is loaded: A's own build (the real-world case, with
// finit_module's force flags) when every symbol it imports has the same
// modversions CRC in B's build of the module (then A's code sees the ABI it
// was built for, as far as modversions can tell); otherwise B's build of
// the same module, with A's distilled BTF injected. The kernel relocates
// the .BTF/.BTF.base sections the same way whichever code surrounds them,
// so both give the same BTF verdict; only the load itself differs.
// A module with a .BTF_ids section (kfunc and BTF id sets, resolved by the
// build against its own numbering) gets the section re-resolved against
// the distilled numbering, as an external module's build would have it,
// and its kfuncs are probed in the guest at the ids the model predicts
// (kfuncs.go).
package scenario

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/report"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// Options define a scenario.
type Options struct {
	Arch  string // amd64 or arm64
	Build string // kernel A: the module BTF is made against it
	Run   string // kernel B: booted
	// Modules to load (names); nil selects SelectLoadable over B's package.
	Modules []string
	// Limit caps the selected modules (deps are added on top); 0: no cap.
	Limit int
	// Cases are catalog cases to add as rows, each built from one of the
	// selected modules (cases.Select).
	Cases []cases.Case
	// Extra are prepared modules (our test module, a user's .ko) added
	// after the Debian ones.
	Extra []ExtraModule
	// Src is the btfrecon source root; Work the directory to share with
	// the guest ("" = a fresh one under $CACHE/vm/).
	Src, Work string
	// Keep leaves the share whole after the run; otherwise the module
	// files, the guest's copies and the guest binary go, and the console
	// log, the plan and the guest's records stay.
	Keep     bool
	Progress io.Writer
	VM       []vm.Option
	// All selects every module both packages hold (SelectAll) when
	// Modules is nil, instead of SelectLoadable's.
	All bool
	// Boots > 0 runs the scenario as a schedule of boots (boots.go): the
	// modules spread over Boots boots at the start, Parallel of them at a
	// time (0: 1), a boot that ends early read step by step, its stuck
	// module isolated in a boot of its own, what never ran booted again;
	// ExtraBoots bounds the isolation, bisection and retry boots. With
	// Boots 0 everything loads in one boot and a crash ends the run (the
	// hostile and case boots, judged by Expect).
	Boots, Parallel, ExtraBoots int
	// StepTimeout bounds one module load as the guest sees it (0: 120 s).
	StepTimeout time.Duration
	// Loop > 0 ends a one-boot scenario with that many rounds of the
	// load/unload loop (loop.go), then kmemleak's scans where the kernel
	// has it; RequireKmemleak fails a kernel without it.
	Loop            int
	RequireKmemleak bool
	// ExactErrno judges each refused case row on its errno too: the one a
	// fixed kernel gives (errno.go), in finit_module's return and in the
	// kernel's "failed to validate module" line.
	ExactErrno bool
	// QuietMismatch (a MODULE_ALLOW_BTF_MISMATCH=y kernel with 6.12's
	// quiet log): the boot's log may hold no per-type verifier message and
	// the mismatch notice at most once (quiet.go).
	QuietMismatch bool
}

// ExtraModule is a module file given by path.
type ExtraModule struct {
	Role string // RoleTestModule, RoleRepro
	Path string
	// Distill: the module's .BTF was made against kernel A and it has no
	// .BTF.base yet; distill it against A's vmlinux first. Otherwise its
	// sections are loaded as they are.
	Distill bool
	Flags   int
	// AsIs loads a module the model cannot read unchanged (repro
	// --allow-bad-input): the report then holds only the kernel's answer.
	AsIs bool
	// RefuseErrno (negative), when set, is how the kernel must refuse this
	// load, saying RefuseMessage: a cause the host knows and the BTF model
	// does not (an old struct module). Why says so in the report.
	RefuseErrno   int
	RefuseMessage string
	Why           string
	// Unload removes the module after its step; it must unload.
	Unload bool
}

// Run prepares and boots the scenario and compares.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	t0 := time.Now()
	var logMu sync.Mutex
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
	logf("scenario: %s: modules built for %s, loaded on %s", o.Arch, o.Build, o.Run)
	A, err := openSide(ctx, o.Build, o.Arch, o.Progress)
	if err != nil {
		return nil, err
	}
	B, err := openRunSide(ctx, o.Run, o.Arch, o.Progress)
	if err != nil {
		return nil, err
	}
	o.Build, o.Run = A.name(o.Build), B.name(o.Run)
	cfg, err := B.k.Config()
	if err != nil {
		return nil, err
	}
	allow := cfg["CONFIG_MODULE_ALLOW_BTF_MISMATCH"] == "y"
	work, err := shareDir(o)
	if err != nil {
		return nil, err
	}
	rep := &Report{Share: work, Header: report.NewHeader("vm", o.Arch, o.Build, o.Run, allow)}
	rep.Summary = Summary{Arch: o.Arch, Build: o.Build, Run: o.Run, AllowMismatch: allow}

	prep := newPreparer(A, B, work, allow, len(o.Cases) > 0, logf)
	prep.exactErrno = o.ExactErrno
	want := o.Modules
	if want != nil {
		inBoth := func(n string) bool { _, a := A.paths[n]; _, b := B.paths[n]; return a && b }
		known := make([]string, 0, len(B.paths))
		for n := range B.paths {
			known = append(known, n)
		}
		if want, err = kmod.CheckNames(want, inBoth, known); err != nil {
			return nil, fmt.Errorf("modules of %s and %s: %w", A.k, B.k, err)
		}
	}
	if want == nil {
		var paths []string
		for _, p := range B.paths {
			paths = append(paths, B.k.ModulePath(p))
		}
		if o.All {
			want = SelectAll(paths)
		} else {
			want = SelectLoadable(paths)
		}
	}
	if o.Limit > 0 && len(want) > o.Limit {
		want = want[:o.Limit]
	}
	start := time.Now()
	steps, skipped, err := prep.debian(want)
	if err != nil {
		return nil, err
	}
	rep.Skipped = skipped
	front, err := prep.caseRows(steps, o.Cases)
	if err != nil {
		return nil, err
	}
	for _, x := range o.Extra {
		s, err := prep.extra(x)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s)
	}
	steps = append(front, steps...)
	logf("scenario: %d steps prepared in %s (%.1f s)", len(steps), work, time.Since(start).Seconds())
	rep.Summary.HostPrepareSeconds = report.Seconds(time.Since(start).Seconds())

	src := o.Src
	if src == "" {
		if src, err = vm.SourceRoot(); err != nil {
			return nil, err
		}
	}
	cvm, err := ciliumBase(B)
	if err != nil {
		return nil, err
	}
	r := &runner{o: o, B: B, src: src, work: work, rep: rep, cilium: cvm, logf: logf}
	if o.Boots > 0 {
		err = r.many(ctx, steps, prep.deps)
	} else {
		err = r.one(ctx, steps, prep.deps)
	}
	if err != nil {
		return nil, err
	}
	for _, sk := range skipped {
		name, why, _ := strings.Cut(sk, ": ")
		rep.Rows = append(rep.Rows, Row{Module: name, Step: name, Role: RoleModule, Kernel: KernelNotRun,
			Verdict: "not loaded: " + why, Note: "skipped: " + why})
	}
	rep.NotLoaded = groupCauses(rep.Rows, prep.deps)
	rep.Summary.WallSeconds = report.Seconds(time.Since(t0).Seconds())
	rep.Summary.Skipped = len(skipped)
	return rep, nil
}

// shareDir is the directory shared with the guest, with its module dir.
func shareDir(o Options) (string, error) {
	work := o.Work
	if work == "" {
		dir, err := cache.Sub("vm")
		if err != nil {
			return "", err
		}
		if work, err = os.MkdirTemp(dir, fmt.Sprintf("%s-%s-%s-", o.Arch, o.Build, o.Run)); err != nil {
			return "", err
		}
	}
	return work, os.MkdirAll(filepath.Join(work, gotest.ModDir), 0o755)
}

// Elapsed is a helper for progress lines.
func Elapsed(t time.Time) string { return fmt.Sprintf("%.1f s", time.Since(t).Seconds()) }
