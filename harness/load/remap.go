package load

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// A module's .BTF_ids section (include/linux/btf_ids.h) is words that
// resolve_btfids fills at build time, each named by a local symbol:
//
//   - __BTF_ID__<kind>__<name>__<n> (kind struct, union, typedef, func):
//     one 4-byte slot, the BTF id of the first type of that kind and name;
//   - __BTF_ID__set__<name>: a struct btf_id_set, a 4-byte count and the
//     ids, sorted; the symbol's size covers the count and the ids;
//   - __BTF_ID__set8__<name>: a struct btf_id_set8, a count, set flags
//     (BTF_SET8_KFUNCS), then (id, flags) pairs sorted by id; the size
//     covers all of it.
//
// The slots of a set are themselves __BTF_ID__ symbols, so a set's ids are
// filled as slots and the set is sorted afterwards: after that, a slot's
// symbol no longer names the type its word holds. An in-tree module's
// section was filled against its build's vmlinux and split numbering; a
// module given a .BTF.base must hold ids in the distilled numbering
// (resolve_btfids resolves against the module's own .BTF on .BTF.base),
// which the kernel maps onto the running vmlinux through the relocation
// (btf_relocate_id) when it registers kfunc sets.

// IDSym is one __BTF_ID__* symbol: its name, and its offset and size in
// the section.
type IDSym struct {
	Name      string
	Off, Size uint64
}

// SetKfuncs is BTF_SET8_KFUNCS: a set8 of kfuncs.
const SetKfuncs = 1 << 0

// ErrBTFIDs: a .BTF_ids section the model cannot read.
var ErrBTFIDs = errors.New("malformed .BTF_ids")

// idSlotKinds are the symbol kinds that name one id slot, and the BTF
// kind resolve_btfids looks them up as.
var idSlotKinds = map[string]btf.Kind{"struct": btf.KindStruct, "union": btf.KindUnion, "typedef": btf.KindTypedef, "func": btf.KindFunc}

// symKind splits __BTF_ID__<kind>__... into kind and the rest ("set8"
// before "set"; "" for a symbol of no known kind).
func symKind(name string) (kind, rest string) {
	r, ok := strings.CutPrefix(name, "__BTF_ID__")
	if !ok {
		return "", ""
	}
	for _, k := range []string{"struct", "union", "typedef", "func", "set8", "set"} {
		if after, ok := strings.CutPrefix(r, k+"__"); ok {
			return k, after
		}
	}
	return "", ""
}

// IDSet is a set or set8 of the section.
type IDSet struct {
	Name  string
	Off   uint64 // the count word
	Set8  bool
	Flags uint32 // set8 only
	Count uint32
}

// entries returns the offset of the first entry and the entry size.
func (s IDSet) entries() (off, size uint64) {
	if s.Set8 {
		return s.Off + 8, 8
	}
	return s.Off + 4, 4
}

// Sets reads the section's sets, checking each count against its symbol's
// size.
func Sets(sec []byte, bo binary.ByteOrder, syms []IDSym) ([]IDSet, error) {
	var out []IDSet
	for _, s := range syms {
		kind, name := symKind(s.Name)
		if kind != "set" && kind != "set8" {
			continue
		}
		set := IDSet{Name: name, Off: s.Off, Set8: kind == "set8"}
		start, unit := set.entries()
		hdr := start - s.Off
		if s.Size < hdr || s.Off+s.Size > uint64(len(sec)) || (s.Size-hdr)%unit != 0 {
			return nil, fmt.Errorf("%w: %s: %d bytes at %d in a section of %d", ErrBTFIDs, s.Name, s.Size, s.Off, len(sec))
		}
		set.Count = bo.Uint32(sec[s.Off:])
		if set.Set8 {
			set.Flags = bo.Uint32(sec[s.Off+4:])
		}
		if want := (s.Size - hdr) / unit; uint64(set.Count) != want {
			return nil, fmt.Errorf("%w: %s: count %d, but its %d bytes hold %d entries", ErrBTFIDs, s.Name, set.Count, s.Size, want)
		}
		out = append(out, set)
	}
	return out, nil
}

// Remapped is what RemapBTFIDs did to one slot.
type Remapped struct {
	Off      uint64
	From, To btf.TypeID
	// What names the type: "FUNC 'bpf_ct_release'".
	What string
}

// RemapBTFIDs rewrites an in-tree module's .BTF_ids (filled against build,
// the build's vmlinux, and split, the module's BTF on it) into the
// distilled numbering of distilled and newSplit (recon.Distill's outputs),
// as resolve_btfids would have filled it for the same module built out of
// tree with that .BTF.base: a slot holding a split type moves with it
// (DistilledID); a slot holding a vmlinux type takes the first type of the
// same kind and name in the distilled numbering (resolve_btfids' rule),
// found in the distilled base or among the base types the new split
// copies; a slot left 0 at build time stays 0. Every set is then sorted by
// id again, set8 flags moving with their ids. unresolved lists the vmlinux
// types the distilled numbering does not hold: their slots become 0, as
// resolve_btfids leaves a name it cannot find.
func RemapBTFIDs(sec []byte, bo binary.ByteOrder, syms []IDSym, build, split, distilled, newSplit *btf.Spec) (out []byte, done []Remapped, unresolved []string, err error) {
	out = slices.Clone(sec)
	first := map[string]btf.TypeID{} // kind/name -> first id in the distilled numbering
	lookup := func(k btf.Kind, name string) btf.TypeID {
		key := k.String() + "/" + name
		if id, ok := first[key]; ok {
			return id
		}
		var found btf.TypeID
		for id := btf.TypeID(1); id < newSplit.NumIDs() && found == 0; id++ {
			if t, err := newSplit.Type(id); err == nil && t.Kind() == k && newSplit.Name(t) == name {
				found = id
			}
		}
		first[key] = found
		return found
	}
	for _, s := range syms {
		kind, _ := symKind(s.Name)
		k, slot := idSlotKinds[kind]
		if !slot {
			continue
		}
		if s.Off+4 > uint64(len(out)) {
			return nil, nil, nil, fmt.Errorf("%w: %s at %d is past the section's %d bytes", ErrBTFIDs, s.Name, s.Off, len(out))
		}
		v := btf.TypeID(bo.Uint32(sec[s.Off:]))
		if v == 0 {
			continue
		}
		var to btf.TypeID
		var what string
		if v >= build.NumIDs() {
			if to, err = DistilledID(build, split, distilled, newSplit, v); err != nil {
				return nil, nil, nil, fmt.Errorf("%s: %w", s.Name, err)
			}
			t, _ := newSplit.Type(to)
			what = fmt.Sprintf("%s '%s'", t.Kind(), newSplit.Name(t))
		} else {
			t, err := build.Type(v)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s: [%d]: %w", s.Name, v, err)
			}
			if t.Kind() != k {
				return nil, nil, nil, fmt.Errorf("%w: %s holds [%d], a %s, not a %s", ErrBTFIDs, s.Name, v, t.Kind(), k)
			}
			what = fmt.Sprintf("%s '%s'", t.Kind(), build.Name(t))
			if to = lookup(k, build.Name(t)); to == 0 {
				unresolved = append(unresolved, what)
			}
		}
		bo.PutUint32(out[s.Off:], uint32(to))
		done = append(done, Remapped{Off: s.Off, From: v, To: to, What: what})
	}
	sets, err := Sets(sec, bo, syms)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, set := range sets {
		sortSet(out, bo, set)
	}
	return out, done, unresolved, nil
}

// sortSet sorts a set's entries by id, as resolve_btfids' sets_patch does
// (a stable sort: equal ids keep their order).
func sortSet(sec []byte, bo binary.ByteOrder, set IDSet) {
	start, unit := set.entries()
	ents := make([][]byte, set.Count)
	for i := range ents {
		at := start + uint64(i)*unit
		ents[i] = slices.Clone(sec[at : at+unit])
	}
	slices.SortStableFunc(ents, func(a, b []byte) int {
		x, y := bo.Uint32(a), bo.Uint32(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	for i, e := range ents {
		copy(sec[start+uint64(i)*unit:], e)
	}
}

// Kfunc is one entry of a BTF_KFUNCS set8: the id the section holds, its
// flags (KF_*), and the set it is in.
type Kfunc struct {
	Set   string
	ID    btf.TypeID
	Flags uint32
}

// Kfuncs lists the entries of the section's kfunc sets (set8s flagged
// BTF_SET8_KFUNCS), the sets the kernel registers with
// register_btf_kfunc_id_set.
func Kfuncs(sec []byte, bo binary.ByteOrder, syms []IDSym) ([]Kfunc, error) {
	return kfuncs(sec, bo, syms, false)
}

// KfuncsOn is Kfuncs as the kernel release reads a module's sets: before
// 6.8 every set8 is a kfunc set (Set8sAreKfuncSets).
func KfuncsOn(release string, sec []byte, bo binary.ByteOrder, syms []IDSym) ([]Kfunc, error) {
	return kfuncs(sec, bo, syms, Set8sAreKfuncSets(release))
}

// Set8sAreKfuncSets: before 6.8 a set8 carries no BTF_SET8_KFUNCS flag
// (set8 came with the kfunc flags in 6.0, and a module's set8s are the
// kfunc sets it registers). release is a kernel release ("6.1.192+"); one
// that does not parse is read as a new kernel.
func Set8sAreKfuncSets(release string) bool {
	var major, minor int
	if n, _ := fmt.Sscanf(release, "%d.%d", &major, &minor); n < 2 {
		return false
	}
	return major < 6 || major == 6 && minor < 8
}

// IsKfuncSet says whether the kernel registers set as a kfunc set (see
// Set8sAreKfuncSets for every8).
func (s IDSet) IsKfuncSet(every8 bool) bool {
	return s.Set8 && (every8 || s.Flags&SetKfuncs != 0)
}

func kfuncs(sec []byte, bo binary.ByteOrder, syms []IDSym, every8 bool) ([]Kfunc, error) {
	sets, err := Sets(sec, bo, syms)
	if err != nil {
		return nil, err
	}
	var out []Kfunc
	for _, set := range sets {
		if !set.IsKfuncSet(every8) {
			continue
		}
		start, unit := set.entries()
		for i := range uint64(set.Count) {
			at := start + i*unit
			out = append(out, Kfunc{Set: set.Name, ID: btf.TypeID(bo.Uint32(sec[at:])), Flags: bo.Uint32(sec[at+4:])})
		}
	}
	return out, nil
}

// RelocateID is btf_relocate_id: the id the kernel gives a .BTF_ids entry
// of a module with .BTF.base, its id map indexed by the entry (distilled
// numbering). The kernel indexes its map unchecked; the model refuses an
// id past it.
func (p Prediction) RelocateID(id btf.TypeID) (btf.TypeID, error) {
	if p.IDMap == nil {
		return id, nil
	}
	if int(id) >= len(p.IDMap) {
		return 0, fmt.Errorf(".BTF_ids: [%d] is past the relocation's id map (%d ids): %w", id, len(p.IDMap), btf.ErrTypeIDRange)
	}
	return p.IDMap[id], nil
}
