package cases

import (
	"bytes"
	"fmt"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/load"
)

// BadKfuncID is what btf-ids-out-of-range writes into a kfunc set: far past
// any module's id map, and the largest id, so the set stays sorted.
const BadKfuncID = 0x7fffffff

// KfuncOopsSite is where Debian's kernels stop on btf-ids-out-of-range: a
// page fault reading the id map 8 GiB past its start, in
// btf_relocate_id inlined into __register_btf_kfunc_id_set (called from
// tcp_bbr's bbr_register).
const KfuncOopsSite = "__register_btf_kfunc_id_set"

// btfIDsOutOfRange: the module's BTF is left as it is, but its first kfunc
// set's last entry names BadKfuncID. The kernel maps every entry through
// the relocation's id map when the module's init registers the set
// (btf_relocate_id), indexing the map with it unchecked.
func btfIDsOutOfRange() Case {
	return Case{Name: "btf-ids-out-of-range", Class: Hostile, Alone: true, Model: load.ErrKfuncIDRange,
		Changes: fmt.Sprintf("a .BTF_ids kfunc set's last entry names type id %#x, past the relocation's id map", BadKfuncID),
		// Recorded with tcp_bbr, 2026-12-02 (no KASAN on any of them).
		Kernels: map[string]KernelRecord{
			"6.12.117/amd64":     {Crash: KfuncOopsSite},
			"6.12.117/arm64":     {Crash: KfuncOopsSite},
			"7.2.13+deb14/amd64": {Crash: KfuncOopsSite},
			"7.2.13+deb14/arm64": {Crash: KfuncOopsSite},
		},
		Build: buildBTFIDsOutOfRange}
}

func buildBTFIDsOutOfRange(in Input) (Made, error) {
	if in.IDs == nil {
		return Made{}, fmt.Errorf("btf-ids-out-of-range: the module has no .BTF_ids: %w", ErrNotApplicable)
	}
	sets, err := load.Sets(in.IDs.Sec, in.IDs.Order, in.IDs.Syms)
	if err != nil {
		return Made{}, fmt.Errorf("btf-ids-out-of-range: %w", err)
	}
	for _, set := range sets {
		if !set.IsKfuncSet(in.IDs.EverySet8) || set.Count == 0 {
			continue
		}
		// A set8 is a count, the set's flags, then (id, flags) pairs.
		at := set.Off + 8 + uint64(set.Count-1)*8
		sec := bytes.Clone(in.IDs.Sec)
		was := btf.TypeID(in.IDs.Order.Uint32(sec[at:]))
		in.IDs.Order.PutUint32(sec[at:], BadKfuncID)
		return Made{What: fmt.Sprintf(".BTF_ids kfunc set %s entry %d of %d: [%d] -> [%#x] (the id map holds %d ids)",
			set.Name, set.Count-1, set.Count, was, BadKfuncID, in.S.NumIDs()),
			Split: in.S.Marshal(), Base: in.D.Marshal(), IDs: sec}, nil
	}
	return Made{}, fmt.Errorf("btf-ids-out-of-range: .BTF_ids has no kfunc set with entries: %w", ErrNotApplicable)
}
