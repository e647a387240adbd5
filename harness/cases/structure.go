package cases

import (
	"sort"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// Structural look-ups the builders choose their edits by. They read the
// BTF the way the contract describes it and share no code with the model,
// so a builder never asks the model what the model will be asked.

func isComposite(k btf.Kind) bool { return k == btf.KindStruct || k == btf.KindUnion }

// firstNamedStruct is the local index of D's first named STRUCT, or -1.
func firstNamedStruct(d *btf.Spec) int {
	for i := range d.NumLocal() {
		if t := d.Local(i); t.Kind() == btf.KindStruct && t.NameOff() != 0 {
			return i
		}
	}
	return -1
}

// embeddedIn is the set of D ids a split STRUCT/UNION member holds by
// value: the member's type followed through CONST, VOLATILE, RESTRICT,
// TYPEDEF, TYPE_TAG and ARRAY elements (contract, Relocate step 3), a
// chain longer than the split cut off (a cycle embeds nothing here).
func embeddedIn(d, s *btf.Spec) map[btf.TypeID]bool {
	out := map[btf.TypeID]bool{}
	for i := range s.NumLocal() {
		t := s.Local(i)
		if !isComposite(t.Kind()) {
			continue
		}
		for m := range t.Vlen() {
			id := btf.TypeID(t.W[3+3*m+1])
			for range s.NumIDs() {
				mt, err := s.Type(id)
				if err != nil {
					break
				}
				if k := mt.Kind(); k == btf.KindArray {
					id = btf.TypeID(mt.W[3])
					continue
				} else if k == btf.KindConst || k == btf.KindVolatile || k == btf.KindRestrict ||
					k == btf.KindTypedef || k == btf.KindTypeTag {
					id = btf.TypeID(mt.SizeType())
					continue
				}
				if id < d.NumIDs() && isComposite(mt.Kind()) {
					out[id] = true
				}
				break
			}
		}
	}
	return out
}

// byName groups the target's named types by name; names lists them sorted.
func byName(target *btf.Spec) (map[string][]btf.Type, []string) {
	m := map[string][]btf.Type{}
	for i := range target.NumLocal() {
		t := target.Local(i)
		if t.NameOff() == 0 {
			continue
		}
		n := target.Name(t)
		if n == "" {
			continue
		}
		m[n] = append(m[n], t)
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return m, names
}

// compositesNamed counts the target's STRUCT/UNION types among ts.
func compositesNamed(ts []btf.Type) int {
	n := 0
	for _, t := range ts {
		if isComposite(t.Kind()) {
			n++
		}
	}
	return n
}
