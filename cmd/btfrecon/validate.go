//go:build !lean

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/btffile"
	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/kbuild"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/oracle"
	"github.com/btfrecon/btfrecon/harness/report"
	"github.com/btfrecon/btfrecon/harness/scenario"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// listFlag is a flag given once per value (--patch P --patch Q).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// validateProfile is what validate builds for one tree version: kernel
// A's fragments (relative to the btfrecon source), the second one's, the
// KASAN one, and the module directories built against both.
type validateProfile struct {
	frags   map[string][]string // by arch
	other   string
	kasan   string
	modules []string
	// ownPahole: the tree's kbuild distils external modules only with a
	// newer pahole than the kernel needs (6.1 + our series: >= 1.28), so
	// the real-distiller build passes the trixie one.
	ownPahole bool
	// kernelPahole: the kernels are built with the trixie pahole too
	// (6.11+: CONFIG_PAHOLE_VERSION decides the module BTF features).
	kernelPahole bool
	// fixed: the tree's kernel is held to the model's errnos (our own
	// reconciliation: 6.1 + the series). A refused case row must carry
	// the model's errno (scenario.Options.ExactErrno), the hostile rows
	// boot on A too (MODULE_ALLOW_BTF_MISMATCH=n: the errno shows), and
	// libbpf must agree with the model on every expected relocation
	// (validate_oracle.go: without the oracle validate fails).
	fixed bool
	// testModule is the module --old-headers builds.
	testModule string
}

// profileFor picks the profile of a Linux version.
func profileFor(major, minor int) (validateProfile, error) {
	switch {
	case major == 6 && minor == 1:
		return validateProfile{
			frags: map[string][]string{
				"amd64": {"vmimages/linux-6.1/minimal.config", "vmimages/linux-6.1/validate.config"},
				"arm64": {"vmimages/linux-6.1/minimal-arm64.config", "vmimages/linux-6.1/validate-arm64.config"},
			},
			other:      "vmimages/validate-other.config",
			kasan:      "vmimages/linux-6.1/kasan.config",
			modules:    []string{"kernel-patch/testmod", "testmodule/kfuncset"},
			ownPahole:  true,
			fixed:      true,
			testModule: "kernel-patch/testmod",
		}, nil
	case major == 6 && minor >= 11 || major == 7:
		return validateProfile{
			frags: map[string][]string{
				"amd64": {"kernel-patch/upstream/kernel/minimal-7.2.config", "kernel-patch/upstream/kernel/guest-7.2.config"},
				"arm64": {"kernel-patch/upstream/kernel/minimal-7.2-arm64.config", "kernel-patch/upstream/kernel/guest-7.2.config"},
			},
			other:        "vmimages/validate-other.config",
			kasan:        "vmimages/linux-6.1/kasan.config",
			modules:      []string{"testmodule", "testmodule/kfuncset", "testmodule/structs", "kernel-patch/upstream/testmod"},
			kernelPahole: true,
			testModule:   "testmodule",
		}, nil
	}
	return validateProfile{}, fmt.Errorf("Linux %d.%d: validate knows 6.1 and 6.11 to 7.x (distilled base BTF); pass --fragment and --other for another tree", major, minor)
}

// validateRun is one scenario of the validation and its report.
type validateRun struct {
	Name   string           `json:"name"`
	Report *scenario.Report `json:"report"`
}

// validateReport is validate's --json: the report schema, the builds and
// each scenario's report.
type validateReport struct {
	report.Header
	Tree    string          `json:"tree"`
	Version string          `json:"version"`
	Patches []string        `json:"patches,omitempty"`
	Builds  []*kbuild.Build `json:"builds"`
	Phases  []validatePhase `json:"phases"`
	Runs    []validateRun   `json:"runs"`
	Agree   bool            `json:"agree"`
	Notes   []string        `json:"notes,omitempty"`
	Seconds report.Seconds  `json:"seconds"`
}

type validatePhase struct {
	Phase   string         `json:"phase"`
	Seconds report.Seconds `json:"seconds"`
}

func runValidate(e *env, args []string) error {
	fs := newFlags(e, "validate")
	tree := fs.String("tree", "", "the kernel source: a directory or a linux-source tarball (.tar.xz)")
	var patches, frags listFlag
	fs.Var(&patches, "patch", "a patch to apply (patch -p1) on a copy of the tree, in order; repeatable")
	fs.Var(&frags, "fragment", "kernel A's config fragment over tinyconfig (default: the tree version's); repeatable")
	other := fs.String("other", "", "the fragment added for the second kernel (default: vmimages/validate-other.config)")
	arch := fs.String("arch", "amd64", "amd64 or arm64 (cross-built with gcc-aarch64-linux-gnu)")
	kasan := fs.Bool("kasan", false, "add KASAN and kmemleak to both kernels")
	jobs := fs.Int("jobs", 0, "make -j (0: the number of CPUs)")
	hostile := fs.Bool("hostile", true, "add the hostile rows")
	reverse := fs.Bool("reverse", true, "also boot A with the modules built on B (A refuses what B's MODULE_ALLOW_BTF_MISMATCH=y loads without BTF)")
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	timeout := fs.Duration("timeout", 10*time.Minute, "bound on each boot")
	loop := fs.Int("loop", -1, "rounds of the load/unload loop after the first boot's rows, then kmemleak's scans (-1: 10 with --kasan, else 2; 0: none)")
	oldHeaders := fs.String("old-headers", "", "the tree WITHOUT the patches (a directory or tarball): the test module built against it, configured as the booted kernel, must load as the model says, or be refused where struct module has no room")
	console := fs.Bool("console", false, "copy the guest's serial console to stderr")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if *tree == "" {
		return usageError{"--tree is required"}
	}
	if *arch != "amd64" && *arch != "arm64" {
		return usageError{"--arch must be amd64 or arm64"}
	}
	if *loop < 0 {
		// Two rounds catch an unload that leaves state behind (the next
		// load differs or fails) for seconds of boot; under KASAN and
		// kmemleak ten give a slow corruption or a leak time to show.
		*loop = 2
		if *kasan {
			*loop = 10
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	v := &validator{e: e, arch: *arch, jobs: *jobs, t0: time.Now(), loop: *loop, kasan: *kasan, oldHeaders: *oldHeaders}
	rep, err := v.run(ctx, *tree, patches, frags, *other, *kasan, *hostile, *reverse, vmOpts(e, *timeout, *console))
	if err != nil {
		if errors.Is(err, kbuild.ErrNotKernelTree) || errors.Is(err, kbuild.ErrPatch) || errors.Is(err, kbuild.ErrToolchain) ||
			errors.Is(err, ErrNoOracle) {
			return usageError{err.Error()}
		}
		return err
	}
	if *jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeValidateText(e.stdout, rep)
	}
	if !rep.Agree {
		return verdictError{fmt.Errorf("rows disagree with the model (%s)", rep.disagreeSummary())}
	}
	return nil
}

func vmOpts(e *env, timeout time.Duration, console bool) []vm.Option {
	o := []vm.Option{vm.Timeout(timeout), vm.WithAccel(vm.Accel("auto"))}
	if console {
		o = append(o, vm.Console(e.stderr))
	}
	return o
}

type validator struct {
	e    *env
	arch string
	jobs int
	t0   time.Time
	rep  *validateReport
	// loop is the load/unload loop's rounds; kasan the builds have KASAN
	// and kmemleak (the loop requires kmemleak then); oldHeaders the
	// --old-headers tree.
	loop       int
	kasan      bool
	oldHeaders string
}

func (v *validator) logf(format string, args ...any) {
	fmt.Fprintf(v.e.stderr, format+"\n", args...)
}

// phase runs f and records its seconds.
func (v *validator) phase(name string, f func() error) error {
	t := time.Now()
	v.logf("validate: %s ...", name)
	err := f()
	s := time.Since(t).Seconds()
	v.rep.Phases = append(v.rep.Phases, validatePhase{Phase: name, Seconds: report.Seconds(s)})
	if err == nil {
		v.logf("validate: %s: %.1f s (%.1f s in all)", name, s, time.Since(v.t0).Seconds())
	}
	return err
}

func (v *validator) run(ctx context.Context, tree string, patches, frags []string, other string,
	kasan, hostile, reverse bool, vmo []vm.Option) (*validateReport, error) {
	src, err := vm.SourceRoot()
	if err != nil {
		return nil, err
	}
	c, err := cache.Sub("kbuild")
	if err != nil {
		return nil, err
	}
	bl := &kbuild.Builder{Cache: c, Progress: v.e.stderr}
	v.rep = &validateReport{Header: report.NewHeader("validate", v.arch, "", "", false), Tree: tree, Patches: patches}
	// the tree first: a path that is not a kernel tree fails before anything else
	tr, _, err := bl.Prepare(kbuild.Spec{Tree: tree, Patches: patches, Arch: v.arch})
	if err != nil {
		return nil, err
	}
	v.rep.Version = tr.Version
	maj, min := tr.MajorMinor()
	prof, err := profileFor(maj, min)
	if err != nil && len(frags) == 0 {
		return nil, usageError{err.Error()}
	}
	inSrc := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(src, p)
	}
	if len(frags) == 0 {
		fr, ok := prof.frags[v.arch]
		if !ok {
			return nil, usageError{fmt.Sprintf("Linux %s: no %s config fragment yet; pass --fragment", tr.Version, v.arch)}
		}
		for _, f := range fr {
			frags = append(frags, inSrc(f))
		}
	}
	if other == "" {
		other = inSrc(prof.other)
	}
	if kasan {
		frags = append(frags, inSrc(prof.kasan))
	}
	var lib *oracle.Oracle
	if prof.fixed {
		if lib, err = oracle.New(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoOracle, err)
		}
	}
	trixie := ""
	if prof.kernelPahole || prof.ownPahole {
		if trixie, err = trixiePahole(src); err != nil {
			return nil, err
		}
	}
	kpahole := ""
	if prof.kernelPahole {
		kpahole = trixie
	}
	specA := kbuild.Spec{Tree: tree, Patches: patches, Arch: v.arch, Fragments: frags, Pahole: kpahole, Jobs: v.jobs, Name: "A"}
	specB := specA
	specB.Fragments = append(append([]string{}, frags...), other)
	specB.Name = "B (A + " + filepath.Base(other) + ")"
	var A, B *kbuild.Build
	if err := v.phase("build A", func() error { A, err = bl.Build(ctx, specA); return err }); err != nil {
		return nil, err
	}
	if err := v.phase("build B", func() error { B, err = bl.Build(ctx, specB, A); return err }); err != nil {
		return nil, err
	}
	v.rep.Builds = []*kbuild.Build{A, B}
	mv, err := vmlinuxMoves(A, B)
	if err != nil {
		return nil, err
	}
	if mv.Same || mv.Moved == 0 {
		return nil, fmt.Errorf("kernels A (%s) and B (%s) have the same vmlinux BTF type ids: %s moves no type, so relocation is the identity", A.Dir, B.Dir, other)
	}
	v.rep.Notes = append(v.rep.Notes, fmt.Sprintf("B's vmlinux BTF: %d of %d type ids hold another type than in A, from id %d on",
		mv.Moved, mv.Total, mv.First))
	v.logf("validate: %s", v.rep.Notes[len(v.rep.Notes)-1])

	work := filepath.Join(c, "validate", A.Key+"-"+B.Key)
	var plainA, plainB, real []string
	err = v.phase("modules", func() error {
		if err := os.MkdirAll(work, 0o755); err != nil {
			return err
		}
		log, err := os.Create(filepath.Join(work, "modules.log"))
		if err != nil {
			return err
		}
		defer log.Close()
		plainVars := []string{}
		if maj >= 7 {
			// 7.x distils in resolve_btfids (--distill_base for external
			// modules): the model's rows start from the plain split
			plainVars = append(plainVars, "RESOLVE_BTFIDS_FLAGS=")
		}
		var srcs []string
		for _, m := range prof.modules {
			srcs = append(srcs, inSrc(m))
		}
		ka, failed, err := A.BuildModules(ctx, srcs, filepath.Join(work, "mod", "A"), plainVars, v.jobs, log)
		if err != nil {
			return err
		}
		if err := failed[srcs[0]]; err != nil {
			return err // the test module itself must build
		}
		var ok []string
		for _, s := range srcs {
			if err := failed[s]; err != nil {
				// another may need what this tree or config lacks: said, not fatal
				v.rep.Notes = append(v.rep.Notes, fmt.Sprintf("%s does not build against A: no rows (%s)", s,
					strings.SplitN(err.Error(), "\n", 2)[0]))
				v.logf("validate: %v", err)
				continue
			}
			ok = append(ok, s)
		}
		for _, k := range ka {
			if hasBase, err := hasBTFBase(k); err != nil {
				return err
			} else if hasBase {
				return fmt.Errorf("%s: the plain build has .BTF.base: this tree's kbuild distils external modules in a way validate cannot turn off", k)
			}
		}
		kb, failed, err := B.BuildModules(ctx, ok, filepath.Join(work, "mod", "B"), plainVars, v.jobs, log)
		if err != nil {
			return err
		}
		for s, err := range failed {
			return fmt.Errorf("%s builds against A but not against B: %w", s, err)
		}
		plainA, plainB = ka, kb
		var rvars []string
		if prof.ownPahole {
			rvars = append(rvars, "PAHOLE="+trixie)
		}
		kr, failed, err := A.BuildModules(ctx, ok, filepath.Join(work, "mod", "real"), rvars, v.jobs, log)
		if err != nil {
			return err
		}
		for s, err := range failed {
			return fmt.Errorf("%s: the tree's own kbuild: %w", s, err)
		}
		for _, k := range kr {
			if hasBase, err := hasBTFBase(k); err != nil {
				return err
			} else if hasBase {
				real = append(real, k)
			}
		}
		if len(real) == 0 {
			v.rep.Notes = append(v.rep.Notes, "the tree's own kbuild made no .BTF.base for external modules: no real-distiller rows")
		}
		if err := A.View(filepath.Join(work, "A"), plainA); err != nil {
			return err
		}
		return B.View(filepath.Join(work, "B"), plainB)
	})
	if err != nil {
		return nil, err
	}
	v.logf("validate: %d modules against A and B, %d with the tree's own .BTF.base", len(plainA), len(real))
	if v.arch == "arm64" {
		// Where the loader puts each module's .BTF_ids, and whether its
		// code then reads the ids it holds (upstream finding 8).
		note, err := btfIDsPlacement(append(append(append([]string{}, plainA...), plainB...), real...))
		if err != nil {
			return nil, err
		}
		if note != "" {
			v.rep.Notes = append(v.rep.Notes, note)
			v.logf("validate: %s", note)
		}
	}
	if lib != nil {
		err := v.phase("libbpf: the expected relocations", func() error {
			n, err := oracleCheck(lib, A.Dir, B.Dir, plainA)
			if err != nil {
				return err
			}
			m, err := oracleCheck(lib, B.Dir, A.Dir, plainB)
			if err != nil {
				return err
			}
			v.rep.Notes = append(v.rep.Notes, fmt.Sprintf("libbpf %s relocates %d modules built on A onto B and %d built on B onto A byte for byte as the model does",
				lib.Version, n, m))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var old []scenario.ExtraModule
	if v.oldHeaders != "" {
		err := v.phase("old-headers module", func() error {
			x, err := v.oldHeadersModule(ctx, bl, B, inSrc(prof.testModule), filepath.Join(work, "mod", "oldhdr"))
			old = append(old, x)
			return err
		})
		if err != nil {
			return nil, err
		}
	}

	// QuietMismatch: our series carries 6.12's quiet log (patch 3); it
	// applies where the booted kernel allows mismatches (B)
	base := scenario.Options{Arch: v.arch, Build: filepath.Join(work, "A"), Run: filepath.Join(work, "B"),
		Src: src, Progress: v.e.stderr, VM: vmo, QuietMismatch: prof.fixed}
	classes := []cases.Class{cases.Stale, cases.Negative}
	var names []string
	// by name: the scenario's own selection takes Debian's in-tree
	// directories, ours sit in extra/
	for _, k := range plainB {
		names = append(names, kmod.ModName(filepath.Base(k)))
	}
	type plan struct {
		phase, name string
		o           scenario.Options
	}
	// the hostile rows in a boot of their own: an unfixed kernel may oops
	// or hang on one, and the module and kfunc rows must still be judged
	fwd := base
	fwd.Modules, fwd.Cases = names, cases.Select(false, classes...)
	fwd.Loop, fwd.RequireKmemleak = v.loop, v.kasan
	what := "model: modules built on A, distilled by the model, loaded on B"
	if v.loop > 0 {
		what += fmt.Sprintf("; %d rounds of the load/unload loop", v.loop)
	}
	plans := []plan{{"boot B: modules, before/after, negative, kfunc rows", what, fwd}}
	if hostile {
		h := base
		h.Modules, h.Cases = names, cases.Select(false, cases.Hostile)
		if prof.fixed {
			// the rows an unfixed kernel spins or oopses on: a fixed one
			// refuses them like the rest
			h.Cases = append(h.Cases, cases.Select(true, cases.Hostile)...)
		}
		plans = append(plans, plan{"boot B: hostile rows",
			"hostile: rows built from A's modules, loaded on B", h})
		if prof.fixed {
			// A refuses what B loads without BTF: the errno shows
			ha := h
			ha.Build, ha.Run, ha.ExactErrno = base.Run, base.Build, true
			plans = append(plans, plan{"boot A: hostile rows, each on its errno",
				"hostile, on A: rows built from B's modules, each refused with the model's errno", ha})
		}
	}
	if reverse {
		rev := fwd
		rev.Build, rev.Run = base.Run, base.Build
		rev.Loop, rev.ExactErrno = 0, prof.fixed
		plans = append(plans, plan{"boot A: the same, built on B",
			"model, reversed: modules built on B, distilled by the model, loaded on A", rev})
	}
	if len(real) > 0 || len(old) > 0 {
		// each unloaded after its row: the old-headers build of the test
		// module loads under the same name after them
		o := base
		o.Modules = []string{}
		for _, k := range real {
			o.Extra = append(o.Extra, scenario.ExtraModule{Role: scenario.RoleTestModule, Path: k, Flags: gotest.ForceFlags, Unload: true})
		}
		o.Extra = append(o.Extra, old...)
		name, what := "boot B: the tree's own distiller", "real: modules as the tree's kbuild distilled them on A, loaded on B"
		switch {
		case len(real) == 0:
			name, what = "boot B: the old-headers module", "old headers: the test module built against the tree without the patches, loaded on B"
		case len(old) > 0:
			name += ", the old-headers module"
			what += "; the test module built against the tree without the patches"
		}
		plans = append(plans, plan{name, what, o})
	}
	for _, p := range plans {
		if err := v.phase(p.phase, func() error {
			r, err := scenario.Run(ctx, p.o)
			if err != nil {
				return err
			}
			v.rep.Runs = append(v.rep.Runs, validateRun{Name: p.name, Report: r})
			return nil
		}); err != nil {
			return nil, err
		}
	}
	v.rep.Agree = true
	for _, r := range v.rep.Runs {
		if r.Report.Disagree() {
			v.rep.Agree = false
		}
	}
	if len(v.rep.Runs) > 0 {
		h := v.rep.Runs[0].Report.Header
		v.rep.Build, v.rep.Run, v.rep.AllowMismatch = h.Build+" (A: "+A.Key+")", h.Run+" (B: "+B.Key+")", h.AllowMismatch
	}
	v.rep.Seconds = report.Seconds(time.Since(v.t0).Seconds())
	return v.rep, nil
}

func (r *validateReport) disagreeSummary() string {
	var parts []string
	for _, run := range r.Runs {
		s := run.Report.Summary
		parts = append(parts, fmt.Sprintf("%s: %d disagreements, boot %s", strings.SplitN(run.Name, ":", 2)[0],
			s.Disagreements, s.BootVerdict))
	}
	return strings.Join(parts, "; ")
}

func writeValidateText(w io.Writer, r *validateReport) {
	fmt.Fprintf(w, "btfrecon validate: Linux %s %s, tree %s", r.Version, r.Arch, r.Tree)
	if len(r.Patches) > 0 {
		fmt.Fprintf(w, " + %d patches", len(r.Patches))
	}
	fmt.Fprintln(w)
	for i, b := range r.Builds {
		how := fmt.Sprintf("built in %.0f s", b.Seconds)
		if b.Cached {
			how = "cached"
		}
		if b.Seed != "" && !b.Cached {
			from := b.Seed
			for j, o := range r.Builds[:i] {
				if o.Key == b.Seed {
					from = string(rune('A' + j))
				}
			}
			how += " from " + from + "'s objects"
		}
		var fr []string
		for _, f := range b.Fragments {
			fr = append(fr, strings.TrimSuffix(filepath.Base(f), ".config"))
		}
		fmt.Fprintf(w, "kernel %c %s: %s (%s)\n", 'A'+i, b.Key, strings.Join(fr, " + "), how)
	}
	for _, run := range r.Runs {
		fmt.Fprintf(w, "\n== %s\n", run.Name)
		run.Report.WriteText(w)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	var ph []string
	for _, p := range r.Phases {
		ph = append(ph, fmt.Sprintf("%s %.0f s", strings.SplitN(p.Phase, ":", 2)[0], float64(p.Seconds)))
	}
	fmt.Fprintln(w)
	line := "phases:"
	for _, p := range ph {
		if len(line)+len(p)+2 > 100 {
			fmt.Fprintln(w, line)
			line = "       "
		}
		line += " " + p + ","
	}
	fmt.Fprintln(w, strings.TrimSuffix(line, ","))
	verdict := "every row agrees with the model"
	if !r.Agree {
		verdict = "DISAGREE"
		for _, run := range r.Runs {
			s := run.Report.Summary
			fmt.Fprintf(w, "  %s: %d disagreements, boot %s\n", strings.SplitN(run.Name, ":", 2)[0], s.Disagreements, s.BootVerdict)
		}
	}
	fmt.Fprintf(w, "validate: %s (%.0f s)\n", verdict, float64(r.Seconds))
}

// trixiePahole is Debian trixie's pahole (kernel-patch/scripts/pahole-trixie.sh).
func trixiePahole(src string) (string, error) {
	dir, err := cache.Sub("kernel", "pahole")
	if err != nil {
		return "", err
	}
	out, err := exec.Command(filepath.Join(src, "kernel-patch/scripts/pahole-trixie.sh"), dir).Output()
	if err != nil {
		return "", fmt.Errorf("%w: pahole >= 1.28 (kernel-patch/scripts/pahole-trixie.sh %s): %v", kbuild.ErrToolchain, dir, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// hasBTFBase: the module carries .BTF.base (its build distilled it).
func hasBTFBase(ko string) (bool, error) {
	m, err := kmod.Open(ko)
	if err != nil {
		return false, err
	}
	_, ok := m.BTFBase()
	return ok, nil
}

// btfMoves is how B's vmlinux BTF differs from A's where module BTF cares:
// Moved of Total type ids hold another type (kind and name) than in A,
// the first at First; Same is byte-identical BTF.
type btfMoves struct {
	Same         bool
	Total, Moved int
	First        btf.TypeID
}

// vmlinuxMoves compares the two kernels' vmlinux .BTF.
func vmlinuxMoves(a, b *kbuild.Build) (btfMoves, error) {
	var specs [2]*btf.Spec
	var raw [2][]byte
	for i, k := range []*kbuild.Build{a, b} {
		s, f, err := btffile.LoadSpec(filepath.Join(k.Dir, "vmlinux"), "")
		if err != nil {
			return btfMoves{}, err
		}
		specs[i], raw[i] = s, f.BTF
	}
	m := compareIDs(specs[0], specs[1])
	m.Same = bytes.Equal(raw[0], raw[1])
	return m, nil
}

// compareIDs counts the ids of b that hold another type than in a (an id
// past a's end counts as moved).
func compareIDs(a, b *btf.Spec) btfMoves {
	m := btfMoves{Total: b.NumLocal()}
	for i := 0; i < b.NumLocal(); i++ {
		tb := b.Local(i)
		if i < a.NumLocal() {
			ta := a.Local(i)
			if ta.Kind() == tb.Kind() && a.Name(ta) == b.Name(tb) {
				continue
			}
		}
		if m.Moved == 0 {
			m.First = b.FirstID() + btf.TypeID(i)
		}
		m.Moved++
	}
	return m
}
