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

// step is a planned step with its prediction.
type step struct {
	gotest.Step
	row Row
}

// preparer writes module files into the share and predicts.
type preparer struct {
	A, B   *kernelSide
	work   string
	target load.Kernel // B as the load model sees it
	logf   func(string, ...any)
	// distilled pairs and original .BTF by module, for the case rows.
	pairs map[string]pair
	deps  map[string][]string
}

type pair struct {
	d, s *btf.Spec
	orig []byte
}

func newPreparer(A, B *kernelSide, work string, allow bool, logf func(string, ...any)) *preparer {
	return &preparer{A: A, B: B, work: work, logf: logf,
		target: load.Kernel{Vmlinux: B.vmlinux, Order: binary.LittleEndian, AllowMismatch: allow}, // amd64 and arm64
		pairs:  map[string]pair{}, deps: map[string][]string{}}
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

// debian prepares the wanted modules and their dependencies, in load order.
func (p *preparer) debian(want []string) ([]step, []string, error) {
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
		info := kmod.ParseModInfo(mi)
		p.deps[n] = info.Depends
		for _, sd := range info.SoftPre {
			has := func(x string) bool { _, a := p.A.paths[x]; _, b := p.B.paths[x]; return a && b && !isNineP(x) }
			if m, ok := kmod.ResolveSoft(sd, has); ok && m != n {
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
	order, err := kmod.LoadOrder(keep, p.deps)
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
		role := RoleModule
		if !wanted[n] {
			role = RoleDep
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
	p.pairs[n] = pair{d, s, raw}
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
	return p.write(n, n, role, code, flags, host, s.Marshal(), d.Marshal(), "")
}

// write puts one module file into the share and predicts its load.
func (p *preparer) write(stepName, module, role, code string, flags int, host *kmod.Module, split, base []byte, edit string) (step, error) {
	img, err := host.WithSections(split, base)
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
	return step{
		Step: gotest.Step{Name: stepName, File: file, Module: name, Flags: flags, Dep: role == RoleDep},
		row: Row{Module: name, Step: stepName, Role: role, Code: code, Flags: flags, Edit: edit,
			Predicted: pred.Outcome, ModelWhy: pred.Why(), pred: pred},
	}, nil
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
