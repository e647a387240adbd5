package scenario

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/btfrecon/btfrecon/gotest"
	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/recon"
	"github.com/btfrecon/btfrecon/harness/vm"
)

// kernelSide is one kernel of the scenario, opened once.
type kernelSide struct {
	k       *kernels.Kernel
	vmlinux *btf.Spec
	paths   map[string]string // module name -> file
}

func openSide(ctx context.Context, release, arch string, progress io.Writer) (*kernelSide, error) {
	k, err := kernels.OpenOrFetch(ctx, release, arch, progress)
	if err != nil {
		return nil, err
	}
	spec, _, err := k.Vmlinux()
	if err != nil {
		return nil, err
	}
	mods, err := k.Modules()
	if err != nil {
		return nil, err
	}
	paths := make(map[string]string, len(mods))
	for _, p := range mods {
		paths[kmod.ModName(filepath.Base(p))] = p
	}
	return &kernelSide{k: k, vmlinux: spec, paths: paths}, nil
}

// openRunSide opens the kernel to boot; one the user built is checked
// first for what the guest needs of its config, before any module is
// prepared.
func openRunSide(ctx context.Context, release, arch string, progress io.Writer) (*kernelSide, error) {
	s, err := openSide(ctx, release, arch, progress)
	if err != nil {
		return nil, err
	}
	if s.k.Local != "" {
		if err := s.k.CheckGuest(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// name is what the scenario calls the kernel (share directories, costs,
// the report): the name it was given, or a built kernel's release for its
// path.
func (s *kernelSide) name(given string) string {
	if s.k.Local != "" {
		return s.k.Release
	}
	return given
}

// step is a planned step with its prediction.
type step struct {
	gotest.Step
	row Row
	// aliases are the names request_module may load the module by (its
	// own and its modinfo's aliases without wildcards).
	aliases []string
}

// preparer writes module files into the share and predicts.
type preparer struct {
	A, B   *kernelSide
	work   string
	target load.Kernel // B as the load model sees it
	logf   func(string, ...any)
	// distilled pairs and original .BTF by module, for the case rows
	// (kept only when keepPairs: they are most of a module's memory).
	keepPairs bool
	mu        sync.Mutex
	pairs     map[string]pair
	deps      map[string][]string
	// probes are the program types a kfunc is probed with (kfuncHooks).
	probes []gotest.KfuncProbe
	// exactErrno marks the case rows (Options.ExactErrno).
	exactErrno bool
}

type pair struct {
	d, s *btf.Spec
	orig []byte
}

func newPreparer(A, B *kernelSide, work string, allow, keepPairs bool, logf func(string, ...any)) *preparer {
	return &preparer{A: A, B: B, work: work, logf: logf, keepPairs: keepPairs,
		target: load.Kernel{Vmlinux: B.vmlinux, Order: binary.LittleEndian, AllowMismatch: allow}, // amd64 and arm64
		pairs:  map[string]pair{}, deps: map[string][]string{}, probes: kfuncHooks(B.vmlinux)}
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

// prepMod is one Debian module as the preparer left it: its step (the
// file written, the prediction), its dependencies, or why it cannot be
// loaded.
type prepMod struct {
	name string
	deps []string
	st   step
	err  error
}

// debian prepares the wanted modules and their dependencies, in load
// order: every module of a wave in parallel (opening both builds,
// distilling, writing the file, predicting), then the dependencies the
// wave named that are not prepared yet, until none is left. A module that
// cannot be prepared, or needs one that cannot, is skipped with why.
func (p *preparer) debian(want []string) ([]step, []string, error) {
	mods := map[string]*prepMod{}
	todo := slices.Clone(want)
	for len(todo) > 0 {
		wave := make([]*prepMod, len(todo))
		p.parallel(len(todo), func(i int) { wave[i] = p.one(todo[i]) })
		todo = nil
		for _, m := range wave {
			mods[m.name] = m
		}
		for _, m := range wave {
			for _, d := range m.deps {
				if _, ok := mods[d]; !ok && !slices.Contains(todo, d) {
					todo = append(todo, d)
				}
			}
		}
	}
	// Each module with kfuncs is loaded first as its running kernel's own
	// build, probed the same way and unloaded: the control of its probes.
	for _, n := range slices.Sorted(maps.Keys(mods)) {
		m := mods[n]
		if m.err != nil || len(m.st.row.kfuncs) == 0 {
			continue
		}
		nat := p.native(n, m.deps)
		if nat.err != nil {
			p.logf("scenario: %s: no control of its kfunc probes: %v", n, nat.err)
			continue
		}
		mods[nat.name] = nat
		m.deps = append(slices.Clone(m.deps), nat.name)
	}
	bad := map[string]string{}
	var isBad func(n string, seen map[string]bool) string
	isBad = func(n string, seen map[string]bool) string {
		if why, ok := bad[n]; ok {
			return why
		}
		if seen[n] {
			return "" // a cycle: LoadOrder says so
		}
		seen[n] = true
		m := mods[n]
		why := ""
		if m.err != nil {
			why = m.err.Error()
		}
		for _, d := range m.deps {
			if w := isBad(d, seen); w != "" && why == "" {
				why = "dependency " + d + ": " + w
			}
		}
		bad[n] = why
		return why
	}
	var skipped, keep []string
	for _, n := range want {
		if why := isBad(n, map[string]bool{}); why != "" {
			skipped = append(skipped, n+": "+why)
			continue
		}
		keep = append(keep, n)
	}
	deps := make(map[string][]string, len(mods))
	for n, m := range mods {
		deps[n] = m.deps
		p.deps[n] = m.deps
	}
	order, err := kmod.LoadOrder(keep, deps)
	if err != nil {
		return nil, nil, err
	}
	wanted := map[string]bool{}
	for _, n := range keep {
		wanted[n] = true
	}
	var steps []step
	for _, n := range order {
		st := mods[n].st
		if !wanted[n] && st.row.Role != RoleNative {
			st.row.Role, st.Dep = RoleDep, true
		}
		steps = append(steps, st)
	}
	sort.Strings(skipped)
	return steps, skipped, nil
}

// parallel runs f(0..n-1) on as many goroutines as the host has CPUs.
func (p *preparer) parallel(n int, f func(i int)) {
	workers := min(max(runtime.NumCPU(), 1), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// one prepares one Debian module (see debian).
func (p *preparer) one(n string) *prepMod {
	m := &prepMod{name: n}
	pa, okA := p.A.paths[n]
	pb, okB := p.B.paths[n]
	switch {
	case !okA || !okB:
		m.err = fmt.Errorf("not in both packages")
		return m
	case isNineP(n):
		m.err = fmt.Errorf("loaded by the initramfs for the 9p share")
		return m
	}
	ma, err := openModule(pa)
	if err != nil {
		m.err = err
		return m
	}
	mb, err := openModule(pb)
	if err != nil {
		m.err = err
		return m
	}
	mi, _ := ma.Section(".modinfo")
	info := kmod.ParseModInfo(mi)
	// The 9p modules are loaded before the plan runs: a dependency on one
	// is met without a step.
	m.deps = slices.DeleteFunc(slices.Clone(info.Depends), isNineP)
	for _, sd := range info.SoftPre {
		has := func(x string) bool { _, a := p.A.paths[x]; _, b := p.B.paths[x]; return a && b && !isNineP(x) }
		if d, ok := kmod.ResolveSoft(sd, has); ok && d != n && !slices.Contains(m.deps, d) {
			m.deps = append(m.deps, d)
		}
	}
	if _, has := ma.BTF(); !has {
		m.err = fmt.Errorf("no .BTF")
		return m
	}
	m.st, m.err = p.distilled(n, ma, mb, RoleModule)
	m.st.aliases = append(m.st.aliases, n)
	for _, a := range info.Aliases {
		if !strings.ContainsAny(a, "*?[") {
			m.st.aliases = append(m.st.aliases, a)
		}
	}
	return m
}

// native prepares the control step of a kfunc module n: B's own build as
// B ships it, its .BTF kept, no .BTF.base, .BTF_ids as B's build filled
// them; loaded after n's dependencies and unloaded before n loads.
func (p *preparer) native(n string, deps []string) *prepMod {
	m := &prepMod{name: "native-" + n, deps: deps}
	mb, err := openModule(p.B.paths[n])
	if err != nil {
		m.err = err
		return m
	}
	raw, _ := mb.BTF()
	sec, ksyms, ok, err := mb.BTFIDs()
	if err != nil || !ok {
		m.err = fmt.Errorf("no .BTF_ids in %s's build (%v)", p.B.k.Release, err)
		return m
	}
	syms := make([]load.IDSym, len(ksyms))
	for i, x := range ksyms {
		syms[i] = load.IDSym{Name: x.Name, Off: x.Off, Size: x.Size}
	}
	kf, err := load.KfuncsOn(p.B.k.Release, sec, mb.ByteOrder, syms)
	if err != nil {
		m.err = err
		return m
	}
	if m.st, m.err = p.writeIDs(m.name, n, RoleNative, p.B.k.Release, 0, mb, raw, nil, nil, ""); m.err != nil {
		return m
	}
	m.st.Unload = true
	m.st.row.BTFIDs = fmt.Sprintf("as %s's build filled them, %d kfuncs", p.B.k.Release, len(kf))
	m.err = p.kfuncProbes(&m.st, idsPrep{kfuncs: kf}, true)
	return m
}

// distilled prepares one Debian module: A's .BTF distilled against A's
// vmlinux (and A's .BTF_ids re-resolved against the distilled numbering),
// injected into the build chosen by the ABI check.
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
	if p.keepPairs {
		p.mu.Lock()
		p.pairs[n] = pair{d, s, raw}
		p.mu.Unlock()
	}
	code, flags, host := p.A.k.Release, gotest.ForceFlags, ma
	va, _ := ma.Section("__versions")
	vb, _ := mb.Section("__versions")
	ca, errA := kmod.ParseVersions(va, ma.ByteOrder, true)
	cb, errB := kmod.ParseVersions(vb, mb.ByteOrder, true)
	// A's code only where it imports the same ABI and exports nothing: an
	// exporter from A would hand A's CRCs to importers built for B.
	if same, _ := kmod.SameABI(ca, cb); errA != nil || errB != nil || !same || exports(ma) {
		code, flags, host = p.B.k.Release, 0, mb
	}
	ids, err := p.btfIDs(n, ma, host, split, d, s)
	if err != nil {
		return step{}, err
	}
	st, err := p.writeIDs(n, n, role, code, flags, host, s.Marshal(), d.Marshal(), ids.sec, "")
	if err != nil || ids.sec == nil {
		return st, err
	}
	st.row.BTFIDs = ids.note
	if err := p.kfuncProbes(&st, ids, false); err != nil {
		return step{}, fmt.Errorf("module %s: %w", n, err)
	}
	return st, nil
}

// write puts one module file into the share and predicts its load.
func (p *preparer) write(stepName, module, role, code string, flags int, host *kmod.Module, split, base []byte, edit string) (step, error) {
	return p.writeIDs(stepName, module, role, code, flags, host, split, base, nil, edit)
}

// writeIDs is write that also replaces .BTF_ids (nil leaves it).
func (p *preparer) writeIDs(stepName, module, role, code string, flags int, host *kmod.Module, split, base, ids []byte, edit string) (step, error) {
	img, err := host.WithBTFSections(split, base, ids)
	if err != nil {
		return step{}, fmt.Errorf("module %s: %w", module, err)
	}
	file := gotest.ModDir + "/" + stepName + ".ko"
	if err := kmod.WriteFileAtomic(filepath.Join(p.work, file), img, 0o644); err != nil {
		return step{}, err
	}
	pred := load.Predict(p.target, split, base)
	name := host.ModinfoName
	if name == "" {
		name = module
	}
	st := step{
		Step: gotest.Step{Name: stepName, File: file, Module: name, Flags: flags, Dep: role == RoleDep},
		row: Row{Module: name, Step: stepName, Role: role, Code: code, Flags: flags, Edit: edit,
			Predicted: pred.Outcome, ModelWhy: pred.Why(), pred: pred, size: int64(len(img))},
	}
	if pred.Outcome == load.KeepsBTF {
		sum := sha256.Sum256(pred.Model.Marshal())
		st.row.modelSHA = hex.EncodeToString(sum[:])
		st.SHA256 = st.row.modelSHA
	}
	return st, nil
}

// extra prepares a module given by path.
func (p *preparer) extra(x ExtraModule) (step, error) {
	m, err := kmod.Open(x.Path)
	if err != nil {
		if x.AsIs {
			return p.asIs(x, err)
		}
		return step{}, err
	}
	raw, ok := m.BTF()
	if !ok {
		return step{}, fmt.Errorf("%s: no .BTF section", x.Path)
	}
	split, base := raw, []byte(nil)
	if b, ok := m.BTFBase(); ok {
		base = b
	} else if x.Distill {
		s, err := btf.ParseSplit(raw, p.A.vmlinux)
		if err != nil {
			return step{}, fmt.Errorf("%s: .BTF on the build's vmlinux: %w", x.Path, err)
		}
		d, s2, err := recon.Distill(p.A.vmlinux, s)
		if err != nil {
			return step{}, fmt.Errorf("%s: distill: %w", x.Path, err)
		}
		split, base = s2.Marshal(), d.Marshal()
	}
	name := m.ModinfoName
	if name == "" {
		name = kmod.ModName(m.Name)
	}
	st, err := p.write(x.Role+"-"+name, name, x.Role, "file", x.Flags, m, split, base, "")
	st.Unload, st.row.mustUnload = x.Unload, x.Unload
	st.row.refuseErrno, st.row.refuseMsg, st.row.Note = x.RefuseErrno, x.RefuseMessage, x.Why
	mi, _ := m.Section(".modinfo")
	if f := strings.Fields(kmod.ParseModInfo(mi).Vermagic); len(f) > 0 {
		st.row.BuiltFor = f[0]
	}
	return st, err
}

// asIs puts a module the model cannot read into the share unchanged, so
// the kernel's answer to it can still be reported.
func (p *preparer) asIs(x ExtraModule, why error) (step, error) {
	data, err := os.ReadFile(x.Path)
	if err != nil {
		return step{}, err
	}
	name := kmod.ModName(filepath.Base(x.Path))
	file := gotest.ModDir + "/" + x.Role + "-" + name + ".ko"
	if err := kmod.WriteFileAtomic(filepath.Join(p.work, file), data, 0o644); err != nil {
		return step{}, err
	}
	return step{
		Step: gotest.Step{Name: x.Role + "-" + name, File: file, Module: name, Flags: x.Flags},
		row: Row{Module: name, Step: x.Role + "-" + name, Role: x.Role, Code: "file", Flags: x.Flags,
			ModelWhy: "the model cannot read the module: " + why.Error()},
	}, nil
}
