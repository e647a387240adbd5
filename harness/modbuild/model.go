package modbuild

import (
	"errors"
	"fmt"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// Model is the model's version of what the kernel's build wrote into a
// module: the same pre-distill split distilled by the kernel's profile,
// .BTF_ids resolved by the model of resolve_btfids against the result.
type Model struct {
	Profile recon.Profile
	// Base and Split are .BTF.base and .BTF as the model writes them.
	Base, Split []byte
	// BTFIDs is .BTF_ids filled by ResolveBTFIDs, nil when the module has
	// none; Unresolved the names it found no type for (resolve_btfids
	// warns and leaves 0).
	BTFIDs     []byte
	Unresolved []string
	// Perm is the 7.2 name sort's renumbering (recon.Distilled.Perm).
	Perm []btf.TypeID
	// DistilledTypes and SplitTypes count the outputs' types.
	DistilledTypes, SplitTypes int
	// KO is the built module with .BTF, .BTF.base and .BTF_ids replaced by
	// the model's (everything else is the kernel build's).
	KO []byte
}

// ErrPreSplit: the split BTF pahole encoded does not decode on the
// headers' vmlinux BTF.
var ErrPreSplit = errors.New("pahole's split BTF does not decode")

// RunModel redoes, with the model, what r's build did with pahole's split:
// the profile's distillation and resolve_btfids' .BTF_ids.
func RunModel(r *Result, p recon.Profile) (*Model, error) {
	base, err := btf.Parse(r.Vmlinux)
	if err != nil {
		return nil, fmt.Errorf("the headers' vmlinux BTF: %w", err)
	}
	split, err := btf.ParseSplit(r.Split, base)
	if err != nil {
		return nil, fmt.Errorf("%s: %w on the headers' vmlinux: %w", r.Module, ErrPreSplit, err)
	}
	pre, err := kmod.Parse(r.PreKO, r.Module+".ko (as pahole got it)")
	if err != nil {
		return nil, err
	}
	ids, syms, hasIDs, err := pre.BTFIDs()
	if err != nil {
		return nil, err
	}
	if hasIDs && p == recon.Profile72 {
		names, err := ImplicitArgs(ids, pre.ByteOrder, syms, split)
		if err != nil {
			return nil, err
		}
		if len(names) > 0 {
			return nil, fmt.Errorf("%s: %w: %s", r.Module, ErrImplicitArgs, strings.Join(names, ", "))
		}
	}
	d, err := p.Distill(base, split)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Module, err)
	}
	m := &Model{Profile: p, Base: d.Base.Marshal(), Split: d.Split.Marshal(), Perm: d.Perm,
		DistilledTypes: d.Base.NumLocal(), SplitTypes: d.Split.NumLocal()}
	if hasIDs {
		if m.BTFIDs, m.Unresolved, err = ResolveBTFIDs(ids, pre.ByteOrder, syms, d.Split); err != nil {
			return nil, fmt.Errorf("%s: %w", r.Module, err)
		}
	}
	built, err := kmod.Parse(r.KO, r.Module+".ko")
	if err != nil {
		return nil, err
	}
	if m.KO, err = built.WithBTFSections(m.Split, m.Base, m.BTFIDs); err != nil {
		return nil, err
	}
	return m, nil
}
