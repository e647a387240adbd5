package load

import (
	"errors"
	"fmt"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// ErrDtorIDRange: an entry of a module's destructor kfunc table names an
// id the relocation's id map does not hold.
var ErrDtorIDRange = errors.New("destructor kfunc table id past the relocation's id map")

// Dtor is one entry of the destructor table a module registers from its
// init (register_btf_id_dtor_kfuncs): the type a referenced kptr points
// to, and the kfunc that releases it. Both come from .BTF_ids slots the
// module's code copies into the table (BTF_ID_LIST entries), in the
// distilled numbering for a module with .BTF.base.
type Dtor struct {
	Type, Kfunc btf.TypeID
}

// RefuseDtorIDPastIDMap is the range rule for destructor tables, the same
// as for kfunc sets (RefuseKfuncIDPastIDMap): the kernel maps both ids of
// every entry through the relocation's id map (btf_relocate_id, first
// when it checks the destructor's prototype, then when it stores the
// table), so an id at or past the map's end names no type. A kernel that
// bounds the map fails the registration with -EINVAL, and a module whose
// init returns that error fails to load, whatever
// MODULE_ALLOW_BTF_MISMATCH says. Linux 6.12 and 7.2 index the map
// unchecked. Which .BTF_ids words make the table is the module's code's
// business: the caller gives the entries.
func RefuseDtorIDPastIDMap(p Prediction, dtors []Dtor) Prediction {
	if p.Outcome != KeepsBTF || p.IDMap == nil {
		return p
	}
	for i, d := range dtors {
		for _, f := range []struct {
			what string
			id   btf.TypeID
		}{{"destructor kfunc", d.Kfunc}, {"type", d.Type}} {
			if int(f.id) >= len(p.IDMap) {
				return Prediction{Outcome: LoadRefused,
					Reason: fmt.Errorf(".BTF_ids: destructor table entry %d: %s [%d]: %w (%d ids), %w: the registration fails with -EINVAL, and the module's init with it",
						i, f.what, f.id, ErrDtorIDRange, len(p.IDMap), btf.ErrTypeIDRange)}
			}
		}
	}
	return p
}
