package scenario

import (
	"errors"
	"fmt"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/load"
)

// caseRows prepares one row for each catalog case, built from the first
// leaf module (no dependencies, its distilled BTF relocating) that can give
// it; the rows load first and unload again. A Stale row uses A's own code
// where the module passed the ABI check (A's act_bpf on 6.12.117 oopses in
// register_pernet_operations, a layout change its CRCs flag, whatever its
// BTF), so it prefers such a module.
func (p *preparer) caseRows(steps []step, want []cases.Case) ([]step, error) {
	var leaves []step
	for _, s := range steps {
		if p.leaf(s.Module) && s.row.Role == RoleModule && s.row.Predicted == load.KeepsBTF {
			leaves = append(leaves, s)
		}
	}
	var out []step
	for i := range want {
		c := &want[i]
		order := leaves
		if c.Class == cases.Stale {
			order = ownCodeFirst(leaves, p.A.k.Release)
		}
		built := false
		for _, s := range order {
			pr := p.pairs[s.Module]
			ids, err := p.caseIDs(s, pr)
			if err != nil {
				return nil, err
			}
			made, err := c.Build(cases.Input{D: pr.d, S: pr.s, Orig: pr.orig, Target: p.B.vmlinux, IDs: ids})
			if errors.Is(err, cases.ErrNotApplicable) {
				continue
			}
			if err != nil {
				return nil, err
			}
			st, err := p.caseRow(s, c, made, ids)
			if err != nil {
				return nil, err
			}
			out = append(out, st)
			built = true
			break
		}
		if !built {
			p.logf("scenario: no selected module can give the %s row", c.Label())
		}
	}
	return out, nil
}

// leaf: n needs no other module; the control load of its own kfunc probes
// (native-n) is not one.
func (p *preparer) leaf(n string) bool {
	for _, d := range p.deps[n] {
		if d != "native-"+n {
			return false
		}
	}
	return true
}

func ownCodeFirst(steps []step, own string) []step {
	var a, b []step
	for _, s := range steps {
		if s.row.Code == own {
			a = append(a, s)
		} else {
			b = append(b, s)
		}
	}
	return append(a, b...)
}

// caseHost is the build of s's module that s loads.
func (p *preparer) caseHost(s step) (*kmod.Module, error) {
	path := p.A.paths[s.Module]
	if s.row.Code == p.B.k.Release {
		path = p.B.paths[s.Module]
	}
	return kmod.Open(path)
}

// caseIDs is s's module's .BTF_ids as its own row loads it, re-resolved
// against its distilled pair (nil: it has none).
func (p *preparer) caseIDs(s step, pr pair) (*cases.BTFIDs, error) {
	ma, err := openModule(p.A.paths[s.Module])
	if err != nil {
		return nil, err
	}
	_, ksyms, ok, err := ma.BTFIDs()
	if err != nil || !ok {
		return nil, err
	}
	host, err := p.caseHost(s)
	if err != nil {
		return nil, err
	}
	split, err := btf.ParseSplit(pr.orig, p.A.vmlinux)
	if err != nil {
		return nil, fmt.Errorf("module %s: .BTF on %s vmlinux: %w", s.Module, p.A.k.Release, err)
	}
	prep, err := p.btfIDs(s.Module, ma, host, split, pr.d, pr.s)
	if err != nil {
		return nil, err
	}
	syms := make([]load.IDSym, len(ksyms))
	for i, y := range ksyms {
		syms[i] = load.IDSym{Name: y.Name, Off: y.Off, Size: y.Size}
	}
	return &cases.BTFIDs{Sec: prep.sec, Order: ma.ByteOrder, Syms: syms, EverySet8: load.Set8sAreKfuncSets(p.B.k.Release)}, nil
}

// caseRow writes a case's sections into the build of s's module that s
// loads, with s's flags, and .BTF_ids as the case made them or as the
// module's own row has them (ids); a kfunc set the case points past the
// id map refuses the load (load.RefuseKfuncIDPastIDMap).
func (p *preparer) caseRow(s step, c *cases.Case, made cases.Made, ids *cases.BTFIDs) (step, error) {
	host, err := p.caseHost(s)
	if err != nil {
		return step{}, err
	}
	var sec []byte
	if ids != nil {
		sec = ids.Sec
		if made.IDs != nil {
			sec = made.IDs
		}
	}
	name := strings.ReplaceAll(c.Label(), ":", "-") + "-" + s.Module
	st, err := p.writeIDs(name, s.Module, c.Label(), s.row.Code, s.Flags, host, made.Split, made.Base, sec, made.What)
	if err != nil {
		return step{}, err
	}
	st.Unload = true
	st.row.kase = c
	st.row.exactErrno = p.exactErrno
	if sec == nil {
		return st, nil
	}
	kf, err := load.KfuncsOn(p.B.k.Release, sec, ids.Order, ids.Syms)
	if err != nil {
		return step{}, fmt.Errorf("module %s: %s: .BTF_ids: %w", s.Module, c.Label(), err)
	}
	if pred := load.RefuseKfuncIDPastIDMap(st.row.pred, kf); pred.Outcome != st.row.pred.Outcome {
		st.row.pred, st.row.Predicted, st.row.ModelWhy = pred, pred.Outcome, pred.Why()
		st.row.modelSHA, st.SHA256 = "", ""
	}
	return st, nil
}
