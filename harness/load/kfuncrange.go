package load

import (
	"errors"
	"fmt"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// ErrKfuncIDRange: a kfunc set of .BTF_ids names an id the relocation's id
// map does not hold.
var ErrKfuncIDRange = errors.New("kfunc id past the relocation's id map")

// RefuseKfuncIDPastIDMap is the .BTF_ids range rule. A module given a
// .BTF.base registers its kfunc sets (register_btf_kfunc_id_set, from its
// init) with every id mapped through the relocation's id map
// (btf_relocate_id), which holds one entry per id of the distilled base and
// the split: btf__type_cnt() of the split, p.IDMap here. An id at or past
// its end names no type; a kernel that bounds the map fails the
// registration with -EINVAL, and a module whose init returns that error
// (tcp_bbr, tcp_dctcp, nf_conntrack, ...) fails to load, whatever
// MODULE_ALLOW_BTF_MISMATCH says: the BTF itself was fine. Linux 6.12 and
// 7.2 index the map unchecked (kernel-patch/upstream, report 04).
//
// kfuncs are the entries of the section as loaded (Kfuncs). Without a
// relocation (no .BTF.base, or the BTF already refused) p is returned as
// it is.
func RefuseKfuncIDPastIDMap(p Prediction, kfuncs []Kfunc) Prediction {
	if p.Outcome != KeepsBTF || p.IDMap == nil {
		return p
	}
	entry := map[string]int{} // the entry's index in its set
	for _, kf := range kfuncs {
		i := entry[kf.Set]
		entry[kf.Set]++
		if int(kf.ID) >= len(p.IDMap) {
			return Prediction{Outcome: LoadRefused,
				Reason: fmt.Errorf(".BTF_ids: kfunc set %s entry %d: [%d]: %w (%d ids), %w: the set's registration fails with -EINVAL, and the module's init with it",
					kf.Set, i, kf.ID, ErrKfuncIDRange, len(p.IDMap), btf.ErrTypeIDRange)}
		}
	}
	return p
}
