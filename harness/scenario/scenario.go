// Package scenario runs one reconciliation scenario: modules whose BTF was
// made against build kernel A, distilled by the model, loaded in one boot
// of running kernel B, and what the kernel served compared with what the
// model predicts.
//
// Which module code is loaded: A's own build (the real-world case, with
// finit_module's force flags) when every symbol it imports has the same
// modversions CRC in B's build of the module (then A's code sees the ABI it
// was built for, as far as modversions can tell); otherwise B's build of
// the same module, with A's distilled BTF injected. The kernel relocates
// the .BTF/.BTF.base sections the same way whichever code surrounds them,
// so both give the same BTF verdict; only the load itself differs.
// Modules with a .BTF_ids section (kfunc/BTF id sets resolved against the
// build's own numbering) are left out: their ids would be stale either way.
package scenario

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/diff"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/recon"
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
	// BeforeAfter adds the "problem shown" row: a module's original .BTF
	// (made against A, no .BTF.base) loaded on B, then unloaded.
	BeforeAfter bool
	Negatives   bool // renamed / embedded size / two candidates rows
	Hostile     bool // hostile .BTF.base rows
	// Extra are prepared modules (our test module, a user's .ko) added
	// after the Debian ones.
	Extra []ExtraModule
	// Src is the btfrecon source root; Work the directory to share with
	// the guest ("" = a fresh one under $CACHE/vm/).
	Src, Work string
	Progress  io.Writer
	VM        []vm.Option
}

// ExtraModule is a module file given by path.
type ExtraModule struct {
	Role string // "testmodule", "repro", "cycle"
	Path string
	// BuildBTF is the vmlinux BTF the module's .BTF was made against when
	// it has no .BTF.base yet (then it is distilled first); nil keeps the
	// module's sections as they are.
	BuildBTF *btf.Spec
	Flags    int
	// Mutate, if set, replaces the sections with a hostile pair.
	Mutate func(d, s *btf.Spec) (Mutation, error)
}

// Row is one module's result.
type Row struct {
	Module     string   `json:"module"`
	Step       string   `json:"step"`
	Role       string   `json:"role"`            // module, dep, before, negative:*, hostile:*, testmodule, repro
	Code       string   `json:"code"`            // whose build was loaded: the release
	Flags      int      `json:"flags"`           // finit_module flags
	Edit       string   `json:"edit,omitempty"`  // what a negative/hostile row changed
	Predicted  Outcome  `json:"predicted"`       // the model's outcome
	ModelWhy   string   `json:"model,omitempty"` // the model's reason for a refusal
	Kernel     string   `json:"kernel"`          // what the kernel did: btf, no-btf, load-failed: ..., hung, not-run
	Verdict    string   `json:"verdict"`
	Identical  bool     `json:"identical"`
	Agree      bool     `json:"agree"`
	SysfsBytes int      `json:"sysfs_bytes"`
	ModelBytes int      `json:"model_bytes,omitempty"`
	Cilium     string   `json:"cilium,omitempty"`
	Kmsg       []string `json:"kmsg,omitempty"` // kernel log lines about BTF
	Diff       string   `json:"diff,omitempty"` // the differ's report on a mismatch
	Millis     int64    `json:"ms,omitempty"`

	pred Prediction
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

type kernelSide struct {
	k       *kernels.Kernel
	vmlinux *btf.Spec
	paths   map[string]string // module name -> file
}

func openSide(ctx context.Context, release, arch string, progress io.Writer) (*kernelSide, error) {
	k, err := kernels.Open(release, arch)
	if err != nil {
		f := &kernels.Fetcher{Progress: progress}
		if k, err = f.Get(ctx, release, arch, false); err != nil {
			return nil, err
		}
	}
	raw, err := k.VmlinuxBTF()
	if err != nil {
		return nil, err
	}
	spec, err := btf.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s vmlinux BTF: %w", k, err)
	}
	mods, err := k.Modules()
	if err != nil {
		return nil, err
	}
	paths := make(map[string]string, len(mods))
	for _, p := range mods {
		paths[ModName(filepath.Base(p))] = p
	}
	return &kernelSide{k: k, vmlinux: spec, paths: paths}, nil
}

// step is a planned step with its prediction.
type step struct {
	gotest.Step
	row Row
}

// Run prepares and boots the scenario and compares.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(o.Progress, format+"\n", args...) }
	logf("scenario: %s: modules built for %s, loaded on %s", o.Arch, o.Build, o.Run)
	A, err := openSide(ctx, o.Build, o.Arch, o.Progress)
	if err != nil {
		return nil, err
	}
	B, err := openSide(ctx, o.Run, o.Arch, o.Progress)
	if err != nil {
		return nil, err
	}
	cfg, err := B.k.Config()
	if err != nil {
		return nil, err
	}
	allow := cfg["CONFIG_MODULE_ALLOW_BTF_MISMATCH"] == "y"
	native := binary.ByteOrder(binary.LittleEndian) // amd64 and arm64
	work := o.Work
	if work == "" {
		dir, err := cache.Sub("vm")
		if err != nil {
			return nil, err
		}
		if work, err = os.MkdirTemp(dir, fmt.Sprintf("%s-%s-%s-", o.Arch, o.Build, o.Run)); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(work, gotest.ModDir), 0o755); err != nil {
		return nil, err
	}
	rep := &Report{Share: work}
	rep.Summary = Summary{Arch: o.Arch, Build: o.Build, Run: o.Run, AllowMismatch: allow}

	prep := &preparer{A: A, B: B, work: work, allow: allow, native: native, logf: logf}
	want := o.Modules
	if want == nil {
		names := make([]string, 0, len(B.paths))
		for n := range B.paths {
			names = append(names, n)
		}
		var ps []string
		for _, n := range names {
			ps = append(ps, B.paths[n])
		}
		want = SelectLoadable(ps)
	}
	if o.Limit > 0 && len(want) > o.Limit {
		want = want[:o.Limit]
	}
	steps, skipped, err := prep.debian(want)
	if err != nil {
		return nil, err
	}
	rep.Skipped = skipped
	var front []step
	if o.BeforeAfter || o.Negatives || o.Hostile {
		f, err := prep.special(steps, o.BeforeAfter, o.Negatives, o.Hostile)
		if err != nil {
			return nil, err
		}
		front = f
	}
	for _, x := range o.Extra {
		s, err := prep.extra(x)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s)
	}
	steps = append(front, steps...)
	logf("scenario: %d steps prepared in %s", len(steps), work)

	plan := &gotest.Plan{StepTimeoutSeconds: 120}
	for _, s := range steps {
		plan.Steps = append(plan.Steps, s.Step)
	}
	src := o.Src
	if src == "" {
		if src, err = vm.SourceRoot(); err != nil {
			return nil, err
		}
	}
	boot, err := vm.RunPlan(ctx, B.k, src, work, plan, o.Progress, o.VM...)
	if err != nil {
		return nil, err
	}
	rep.Console = boot.Console
	s := &rep.Summary
	s.Accel, s.AccelNote, s.BootVerdict, s.BootDetail = string(boot.Accel), boot.AccelNote, string(boot.Verdict), boot.Detail
	s.BootSeconds, s.PrepareSeconds, s.CrashSite = boot.Seconds, boot.PrepareSeconds, boot.CrashSite
	if boot.Start != nil {
		s.Uname = boot.Start.Uname
	}
	if boot.End != nil {
		s.Taint = boot.End.Taint
	}
	s.BootPhases = boot.Phases()
	for i, oc := range boot.Outcomes {
		row := judge(steps[i].row, oc, boot, B.vmlinux)
		rep.Rows = append(rep.Rows, row)
		s.count(row, o.Build)
	}
	if boot.Verdict == vm.Clean && boot.End == nil {
		s.BootVerdict = "incomplete"
		s.BootDetail = "the guest powered off without finishing the plan (see the console)"
	}
	return rep, nil
}

func (s *Summary) count(r Row, build string) {
	if r.Role != "module" && r.Role != "dep" && r.Role != "testmodule" {
		if !r.Agree {
			s.Disagreements++
		}
		return
	}
	s.Modules++
	switch {
	case strings.HasPrefix(r.Kernel, "btf"):
		s.Loaded++
		s.BTFKept++
	case r.Kernel == "no-btf":
		s.Loaded++
		s.BTFDropped++
	case strings.HasPrefix(r.Kernel, "load-failed"):
		s.Refused++
	}
	if r.Identical {
		s.Identical++
	}
	if r.Kernel == "btf" && r.Predicted == KeepsBTF && !r.Identical {
		s.Differences++
	}
	if !r.Agree && !strings.HasPrefix(r.Kernel, "load-failed") {
		s.Disagreements++
	}
	if strings.HasPrefix(r.Kernel, "btf") || r.Kernel == "no-btf" {
		if r.Code == build {
			s.OwnBuild++
		} else {
			s.OtherBuild++
		}
	}
}

// judge compares the kernel's outcome for one step with the prediction.
func judge(row Row, oc gotest.Outcome, boot *vm.Boot, target *btf.Spec) Row {
	d := oc.Done
	switch {
	case !oc.Started:
		row.Kernel, row.Verdict = "not-run", "not run: the boot ended before it ("+string(boot.Verdict)+")"
		return row
	case d == nil || oc.Hung:
		row.Kernel = "hung"
		row.Verdict = fmt.Sprintf("guest stuck in this load: boot %s %s", boot.Verdict, boot.Detail)
		if d != nil {
			row.Kmsg = btfLines(d.Kmsg)
		}
		return row
	}
	row.Kmsg, row.Millis, row.Cilium, row.SysfsBytes = btfLines(d.Kmsg), d.Millis, d.Cilium, d.SysfsBytes
	if row.Role != "module" && row.Role != "dep" {
		row.Kmsg = notTaint(d.Kmsg) // the special rows keep every line
	}
	switch {
	case d.AlreadyLoaded:
		row.Kernel, row.Verdict = "already-loaded", "not judged: the module was already loaded"
		return row
	case !d.Loaded:
		row.Kernel = "load-failed: " + d.LoadErr
	case d.HasBTF:
		row.Kernel = "btf"
	default:
		row.Kernel = "no-btf"
	}
	p := row.pred
	switch {
	case strings.HasPrefix(row.Kernel, "load-failed"):
		row.Agree = p.Outcome == LoadRefused
		row.Verdict = "load failed (" + d.LoadErr + ")"
		if row.Agree {
			row.Verdict = "agree: load refused"
		}
	case row.Kernel == "no-btf":
		row.Agree = p.Outcome == NoBTF
		row.Verdict = "agree: loaded, no BTF"
		if !row.Agree {
			row.Verdict = "DISAGREE: kernel dropped the BTF, the model relocates it"
		}
	default:
		if p.Outcome != KeepsBTF {
			row.Verdict = "DISAGREE: kernel kept BTF the model refuses"
			break
		}
		raw, err := boot.ReadFile(d.SysfsFile)
		if err != nil {
			row.Verdict = "sysfs copy missing: " + err.Error()
			break
		}
		r := diff.Compare(raw, p.Model, target, p.IDMap, p.ND)
		row.ModelBytes = r.ModelBytes
		row.Identical = r.Identical
		row.Agree = r.Identical
		if r.Identical {
			row.Verdict = "identical"
		} else {
			row.Verdict = fmt.Sprintf("DIFFERENT at byte %d", r.FirstDiffAt)
			var b strings.Builder
			r.Write(&b, row.Module)
			row.Diff = b.String()
		}
	}
	if row.Role == "before" {
		// The problem shown: informational. It agrees when the kernel did
		// what the codec predicts for stale ids on the new vmlinux.
		row.Verdict = "before (no .BTF.base): " + row.Kernel
	}
	return row
}

// btfLines keeps the kernel log lines about BTF.
func btfLines(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, "BTF") || strings.Contains(l, "btf") {
			out = append(out, l)
		}
	}
	return out
}

func isNineP(n string) bool {
	for _, m := range vm.NinePModules {
		if m == n {
			return true
		}
	}
	return false
}

// exports reports whether a module exports symbols (has __ksymtab sections).
func exports(m *kmod.Module) bool {
	for _, s := range []string{"__ksymtab", "__ksymtab_gpl", "__ksymtab_strings"} {
		if _, ok := m.Section(s); ok {
			return true
		}
	}
	return false
}

// notTaint drops the lines every unsigned or forced load prints.
func notTaint(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.Contains(l, "taints kernel") && !strings.Contains(l, "module verification failed") {
			out = append(out, l)
		}
	}
	return out
}

// preparer writes module files into the share and predicts.
type preparer struct {
	A, B   *kernelSide
	work   string
	allow  bool
	native binary.ByteOrder
	logf   func(string, ...any)
	// distilled pairs by module, for the special rows.
	pairs map[string][2]*btf.Spec
	deps  map[string][]string
}

// debian prepares the wanted modules and their dependencies, in load order.
func (p *preparer) debian(want []string) ([]step, []string, error) {
	p.pairs = map[string][2]*btf.Spec{}
	p.deps = map[string][]string{}
	var skipped []string
	type loaded struct {
		a, b *kmod.Module
	}
	mods := map[string]loaded{}
	failed := map[string]error{}
	var open func(n string) error
	open = func(n string) (err error) {
		if err, ok := failed[n]; ok {
			return err
		}
		if _, ok := mods[n]; ok {
			return nil
		}
		defer func() {
			if err != nil {
				failed[n] = err
				delete(mods, n)
			}
		}()
		pa, okA := p.A.paths[n]
		pb, okB := p.B.paths[n]
		if !okA || !okB {
			return fmt.Errorf("module %s: not in both packages", n)
		}
		if isNineP(n) {
			return fmt.Errorf("module %s: loaded by the initramfs for the 9p share", n)
		}
		ma, err := kmod.Open(pa)
		if err != nil {
			return err
		}
		mb, err := kmod.Open(pb)
		if err != nil {
			return err
		}
		mods[n] = loaded{ma, mb}
		mi, _ := ma.Section(".modinfo")
		info := ParseModInfo(mi)
		p.deps[n] = info.Depends
		for _, sd := range info.SoftPre {
			has := func(x string) bool { _, a := p.A.paths[x]; _, b := p.B.paths[x]; return a && b && !isNineP(x) }
			if m, ok := ResolveSoft(sd, has); ok && m != n {
				p.deps[n] = append(p.deps[n], m)
			}
		}
		for _, d := range p.deps[n] {
			if err := open(d); err != nil {
				return fmt.Errorf("%s (needed by %s): %w", d, n, err)
			}
		}
		return nil
	}
	var ok []string
	for _, n := range want {
		if err := open(n); err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", n, err))
			continue
		}
		ok = append(ok, n)
	}
	// A module is left out when it or a dependency has .BTF_ids.
	bad := map[string]string{}
	var isBad func(n string) string
	isBad = func(n string) string {
		if why, ok := bad[n]; ok {
			return why
		}
		bad[n] = ""
		if _, has := mods[n].a.Section(".BTF_ids"); has {
			bad[n] = "has .BTF_ids (kfunc/BTF id sets resolved against its own build's numbering)"
		} else if _, has := mods[n].a.BTF(); !has {
			bad[n] = "no .BTF"
		}
		for _, d := range p.deps[n] {
			if w := isBad(d); w != "" && bad[n] == "" {
				bad[n] = "dependency " + d + ": " + w
			}
		}
		return bad[n]
	}
	var keep []string
	for _, n := range ok {
		if why := isBad(n); why != "" {
			skipped = append(skipped, n+": "+why)
			continue
		}
		keep = append(keep, n)
	}
	order, err := LoadOrder(keep, p.deps)
	if err != nil {
		return nil, nil, err
	}
	wanted := map[string]bool{}
	for _, n := range keep {
		wanted[n] = true
	}
	var steps []step
	for _, n := range order {
		m := mods[n]
		role := "module"
		if !wanted[n] {
			role = "dep"
		}
		s, err := p.distilled(n, m.a, m.b, role)
		if err != nil {
			return nil, nil, err
		}
		steps = append(steps, s)
	}
	sort.Strings(skipped)
	return steps, skipped, nil
}

// distilled prepares one Debian module: A's .BTF distilled against A's
// vmlinux, injected into the build chosen by the ABI check.
func (p *preparer) distilled(n string, ma, mb *kmod.Module, role string) (step, error) {
	raw, _ := ma.BTF()
	split, err := btf.ParseSplit(raw, p.A.vmlinux)
	if err != nil {
		return step{}, fmt.Errorf("module %s (%s): .BTF on %s vmlinux: %w", n, p.A.k.Release, p.A.k.Release, err)
	}
	d, s, err := recon.Distill(p.A.vmlinux, split)
	if err != nil {
		return step{}, fmt.Errorf("module %s: distill: %w", n, err)
	}
	p.pairs[n] = [2]*btf.Spec{d, s}
	code, flags, host := p.A.k.Release, gotest.ForceFlags, ma
	va, _ := ma.Section("__versions")
	vb, _ := mb.Section("__versions")
	ca, errA := ParseVersions(va, ma.ByteOrder, true)
	cb, errB := ParseVersions(vb, mb.ByteOrder, true)
	// A's code only where it imports the same ABI and exports nothing: an
	// exporter from A would hand A's CRCs to importers built for B.
	if same, _ := SameABI(ca, cb); errA != nil || errB != nil || !same || exports(ma) {
		code, flags, host = p.B.k.Release, 0, mb
	}
	return p.write(n, n, role, code, flags, host, s.Marshal(), d.Marshal(), "")
}

func (p *preparer) write(stepName, module, role, code string, flags int, host *kmod.Module, split, base []byte, edit string) (step, error) {
	img, err := host.WithSections(split, base)
	if err != nil {
		return step{}, fmt.Errorf("module %s: %w", module, err)
	}
	file := gotest.ModDir + "/" + stepName + ".ko"
	if err := kmod.WriteFileAtomic(filepath.Join(p.work, file), img, 0o644); err != nil {
		return step{}, err
	}
	pred := Predict(split, base, p.B.vmlinux, p.native, p.allow)
	name := host.ModinfoName
	if name == "" {
		name = module
	}
	return step{
		Step: gotest.Step{Name: stepName, File: file, Module: name, Flags: flags, Dep: role == "dep"},
		row:  Row{Module: name, Step: stepName, Role: role, Code: code, Flags: flags, Edit: edit, Predicted: pred.Outcome, ModelWhy: pred.Why, pred: pred},
	}, nil
}

// special prepares the before/after, negative and hostile rows on modules
// with no dependencies, loaded first and unloaded again.
func (p *preparer) special(steps []step, before, neg, hostile bool) ([]step, error) {
	var out []step
	leaf := func(s step) bool {
		return len(p.deps[s.Module]) == 0 && s.row.Role == "module" && s.row.Predicted == KeepsBTF
	}
	unload := func(s step) step { s.Unload = true; return s }
	if before {
		// A's own code only for a module that passed the ABI check (A's
		// act_bpf on 6.12.117 oopses in register_pernet_operations, a
		// layout change its CRCs flag, whatever its BTF); else B's build
		// carrying A's original .BTF: the BTF verdict is the same.
		pick := -1
		for i, s := range steps {
			if leaf(s) && (pick < 0 || s.row.Code == p.A.k.Release && steps[pick].row.Code != p.A.k.Release) {
				pick = i
			}
		}
		if pick >= 0 {
			s := steps[pick]
			ma, err := kmod.Open(p.A.paths[s.Module])
			if err != nil {
				return nil, err
			}
			raw, _ := ma.BTF()
			host, flags := ma, gotest.ForceFlags
			if s.row.Code != p.A.k.Release {
				if host, err = kmod.Open(p.B.paths[s.Module]); err != nil {
					return nil, err
				}
				flags = s.Flags
			}
			st, err := p.write("before-"+s.Module, s.Module, "before", s.row.Code, flags, host, raw, nil, p.A.k.Release+"'s own .BTF, no .BTF.base")
			if err != nil {
				return nil, err
			}
			out = append(out, unload(st))
		}
	}
	if neg {
		have := map[string]bool{}
		for _, s := range steps {
			if !leaf(s) || len(have) == 3 {
				continue
			}
			pair := p.pairs[s.Module]
			for _, m := range Negatives(pair[0], pair[1], p.B.vmlinux) {
				if have[m.Name] {
					continue
				}
				st, err := p.mutated(s, m)
				if err != nil {
					return nil, err
				}
				have[m.Name] = true
				out = append(out, unload(st))
			}
		}
		if len(have) < 3 {
			p.logf("scenario: only %d of the 3 negative rows could be built from the selected modules", len(have))
		}
	}
	if hostile {
		have := map[string]bool{}
		for _, s := range steps {
			if !leaf(s) {
				continue
			}
			pair := p.pairs[s.Module]
			for _, m := range Hostile(pair[0], pair[1]) {
				if have[m.Name] {
					continue
				}
				have[m.Name] = true
				st, err := p.mutated(s, m)
				if err != nil {
					return nil, err
				}
				out = append(out, unload(st))
			}
			if have["hostile:split-id-out-of-range"] {
				break
			}
		}
	}
	return out, nil
}

func (p *preparer) mutated(s step, m Mutation) (step, error) {
	path := p.A.paths[s.Module]
	if s.row.Code == p.B.k.Release {
		path = p.B.paths[s.Module]
	}
	host, err := kmod.Open(path)
	if err != nil {
		return step{}, err
	}
	name := strings.ReplaceAll(m.Name, ":", "-") + "-" + s.Module
	return p.write(name, s.Module, m.Name, s.row.Code, s.Flags, host, m.Split, m.Base, m.What)
}

// extra prepares a module given by path.
func (p *preparer) extra(x ExtraModule) (step, error) {
	m, err := kmod.Open(x.Path)
	if err != nil {
		return step{}, err
	}
	raw, ok := m.BTF()
	if !ok {
		return step{}, fmt.Errorf("%s: no .BTF section", x.Path)
	}
	base, hasBase := m.BTFBase()
	var d, s *btf.Spec
	switch {
	case hasBase:
		if d, err = btf.Parse(base); err == nil {
			s, err = btf.ParseSplit(raw, d)
		}
	case x.BuildBTF != nil:
		var split *btf.Spec
		if split, err = btf.ParseSplit(raw, x.BuildBTF); err == nil {
			d, s, err = recon.Distill(x.BuildBTF, split)
		}
	}
	if err != nil {
		return step{}, fmt.Errorf("%s: %w", x.Path, err)
	}
	split, b := raw, base
	if !hasBase {
		b = nil
	}
	if s != nil {
		split, b = s.Marshal(), d.Marshal()
	}
	edit := ""
	if x.Mutate != nil {
		if d == nil {
			return step{}, fmt.Errorf("%s: no distilled base to mutate", x.Path)
		}
		mu, err := x.Mutate(d, s)
		if err != nil {
			return step{}, err
		}
		split, b, edit = mu.Split, mu.Base, mu.What
	}
	name := m.ModinfoName
	if name == "" {
		name = ModName(m.Name)
	}
	return p.write(x.Role+"-"+name, name, x.Role, "file", x.Flags, m, split, b, edit)
}

// Elapsed is a helper for progress lines.
func Elapsed(t time.Time) string { return fmt.Sprintf("%.1f s", time.Since(t).Seconds()) }
