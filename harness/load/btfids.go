package load

import (
	"fmt"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// DistilledID is what resolve_btfids writes into .BTF_ids for a module
// with a .BTF.base: the id, in the distilled numbering, of the split type
// that has id in the module's split on its build vmlinux. The kernel then
// maps it through the relocation's id map (btf_relocate_id). Distilling
// keeps the split's own types first and in order (contract, Distill step
// 3), so the id moves by the difference of the two bases' sizes; the type
// found there must be the same kind and name, or the numbering is not the
// one the contract describes.
func DistilledID(build, split, distilled, newSplit *btf.Spec, id btf.TypeID) (btf.TypeID, error) {
	if id < build.NumIDs() || id >= split.NumIDs() {
		return 0, fmt.Errorf(".BTF_ids: [%d] is not a type of the module's split (%d..%d): %w",
			id, build.NumIDs(), split.NumIDs()-1, btf.ErrTypeIDRange)
	}
	nid := distilled.NumIDs() + (id - build.NumIDs())
	was, err := split.Type(id)
	if err != nil {
		return 0, err
	}
	now, err := newSplit.Type(nid)
	if err != nil {
		return 0, err
	}
	if was.Kind() != now.Kind() || split.Name(was) != newSplit.Name(now) {
		return 0, fmt.Errorf(".BTF_ids: [%d] %s '%s' is [%d] %s '%s' after distilling, not the same type",
			id, was.Kind(), split.Name(was), nid, now.Kind(), newSplit.Name(now))
	}
	return nid, nil
}
