package scenario

import (
	"errors"
	"strings"

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
		if len(p.deps[s.Module]) == 0 && s.row.Role == RoleModule && s.row.Predicted == load.KeepsBTF {
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
			made, err := c.Build(cases.Input{D: pr.d, S: pr.s, Orig: pr.orig, Target: p.B.vmlinux})
			if errors.Is(err, cases.ErrNotApplicable) {
				continue
			}
			if err != nil {
				return nil, err
			}
			st, err := p.caseRow(s, c, made)
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

// caseRow writes a case's sections into the build of s's module that s
// loads, with s's flags.
func (p *preparer) caseRow(s step, c *cases.Case, made cases.Made) (step, error) {
	path := p.A.paths[s.Module]
	if s.row.Code == p.B.k.Release {
		path = p.B.paths[s.Module]
	}
	host, err := kmod.Open(path)
	if err != nil {
		return step{}, err
	}
	name := strings.ReplaceAll(c.Label(), ":", "-") + "-" + s.Module
	st, err := p.write(name, s.Module, c.Label(), s.row.Code, s.Flags, host, made.Split, made.Base, made.What)
	st.Unload = true
	st.row.kase = c
	return st, err
}
