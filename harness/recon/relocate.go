package recon

import (
	"cmp"
	"fmt"
	"slices"
	"syscall"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// Relocate moves a split BTF from its distilled base onto target, the
// running kernel's base, as the kernel does at module load and libbpf's
// btf__relocate() does. It returns the relocated split (parsed on target;
// its bytes, from Marshal or WriteTo, are what /sys/kernel/btf/<module>
// serves) and
// the id map, indexed by pre-relocation id (distilled base, then split).
// Nothing is modified on failure.
func Relocate(distilled, split, target *btf.Spec) (*btf.Spec, []btf.TypeID, error) {
	if split.Base() != distilled || distilled.Base() != nil || target.Base() != nil {
		return nil, nil, &Error{Op: "relocate", Reason: ErrNotSplit, Errno: syscall.EINVAL,
			Detail: "the split BTF must be parsed on the distilled base; both bases must be standalone"}
	}
	r := &relocator{
		dist: distilled, split: split, target: target,
		nd: distilled.NumIDs(), nb: target.NumIDs(),
		dlen: distilled.StrEnd(), blen: target.StrEnd(),
	}
	if err := r.validateDistilled(); err != nil {
		return nil, nil, err
	}
	if err := r.markEmbedded(); err != nil {
		return nil, nil, err
	}
	if err := r.matchTypes(); err != nil {
		return nil, nil, err
	}
	out := split.Copy()
	if err := r.rewriteIDs(out); err != nil {
		return nil, nil, err
	}
	if err := r.rewriteStrings(out); err != nil {
		return nil, nil, err
	}
	// Checked on the target as its encoding would be, sharing the Copy's
	// words and the split's strings: a one-shot process holds no second
	// copy (amdgpu: 2.6 MB). Encoded is then a new buffer; WriteTo is not.
	rel, err := out.Rebase(target)
	if err != nil {
		return nil, nil, fmt.Errorf("relocate: relocated BTF does not decode on the target: %w", err)
	}
	return rel, r.idMap, nil
}

type relocator struct {
	dist, split, target *btf.Spec
	nd, nb              btf.TypeID // NumIDs of the distilled base and the target
	dlen, blen          uint32     // string section lengths of the same

	embedded []bool              // by distilled id
	holder   []holder            // by distilled id: the first split member embedding it
	idMap    []btf.TypeID        // by pre-relocation id
	nameMap  map[uint32]uint32   // distilled name offset -> target name offset
	refused  map[btf.TypeID]bool // distilled ids with a refused candidate
	fields   []int               // scratch
}

// validateDistilled: every distilled type is named and of a kind the
// distiller produces (ENUM64 never is: it is distilled to ENUM).
func (r *relocator) validateDistilled() error {
	for id := btf.TypeID(1); id < r.nd; id++ {
		t, _ := r.dist.Type(id)
		switch t.Kind() {
		case btf.KindInt, btf.KindFloat, btf.KindEnum, btf.KindStruct, btf.KindUnion, btf.KindFwd:
			if t.NameOff() == 0 {
				return &Error{Op: "relocate", Reason: ErrAnonymousDistilled, Errno: syscall.EINVAL, Type: ref(r.dist, t)}
			}
		default:
			return &Error{Op: "relocate", Reason: ErrBadDistilledKind, Errno: syscall.EINVAL, Type: ref(r.dist, t)}
		}
		if t.NameOff() >= r.dlen {
			return stringRange("relocate", t, 0, r.dlen)
		}
	}
	return nil
}

// markEmbedded marks the distilled composites that a split composite holds
// by value (through modifiers, typedefs and arrays): their size is part of
// the module's layout, so it must match the target's.
func (r *relocator) markEmbedded() error {
	r.embedded = make([]bool, r.nd)
	r.holder = make([]holder, r.nd)
	limit := r.split.NumIDs() // a longer chain must loop
	for i := range r.split.NumLocal() {
		t := r.split.Local(i)
		if !isComposite(t.Kind()) {
			continue
		}
		for m := range t.Vlen() {
			// from's word f holds the next id of the chain.
			from, f := t, 3+3*m+1
			for steps := btf.TypeID(0); ; steps++ {
				if steps > limit {
					return &Error{Op: "relocate", Reason: ErrCycle, Errno: syscall.ELOOP, Type: ref(r.split, t),
						Detail: fmt.Sprintf("member %d's type chain does not end (the kernel would not return)", m)}
				}
				id := btf.TypeID(from.W[f])
				mt, err := r.split.Type(id)
				if err != nil {
					return idRange("relocate", from, f, r.split.NumIDs())
				}
				switch mt.Kind() {
				case btf.KindConst, btf.KindVolatile, btf.KindRestrict, btf.KindTypedef, btf.KindTypeTag:
					from, f = mt, 2
					continue
				case btf.KindArray:
					from, f = mt, 3
					continue
				}
				if id < r.nd && isComposite(mt.Kind()) && !r.embedded[id] {
					r.embedded[id] = true
					r.holder[id] = holder{local: i, member: m}
				}
				break
			}
		}
	}
	return nil
}

// holder is a split composite member that embeds a distilled type.
type holder struct{ local, member int }

// embeddedBy names the split member that embeds distilled type id, for
// explanations: "[112790] STRUCT 'gpio_device' size=1232, member 'chip'".
func (r *relocator) embeddedBy(id btf.TypeID) string {
	if int(id) >= len(r.embedded) || !r.embedded[id] {
		return ""
	}
	h := r.holder[id]
	t := r.split.Local(h.local)
	name, _ := r.split.String(t.W[3+3*h.member])
	return fmt.Sprintf("%s, member '%s'", ref(r.split, t), name)
}

// Embedded lists, in id order, the distilled composites that a split
// composite holds by value: those whose size relocation compares.
func Embedded(distilled, split *btf.Spec) ([]btf.TypeID, error) {
	r := &relocator{dist: distilled, split: split, nd: distilled.NumIDs()}
	if err := r.markEmbedded(); err != nil {
		return nil, err
	}
	var out []btf.TypeID
	for id, e := range r.embedded {
		if e {
			out = append(out, btf.TypeID(id))
		}
	}
	return out, nil
}

// distEntry is a distilled type in matching order: size is its keySize.
type distEntry struct {
	id   btf.TypeID
	size uint32
}

// distName is the distilled types of one name: entries[first:end] of
// matchTypes' table, sizes descending.
type distName struct {
	name       string
	first, end int32
}

// targetHit is a target type whose name a distilled type has, and the
// index of that name's distName.
type targetHit struct {
	id   btf.TypeID
	name int32
}

// matchTypes maps every distilled type to a target type: for each keyed
// target type in id order (TargetKey), the distilled types its key admits
// are its candidates, and acceptCandidate decides. A distilled type
// accepted twice is ambiguous; one never accepted is missing.
func (r *relocator) matchTypes() error {
	// Distilled types by name, sizes descending within a name, in one
	// table grouped by name (a slice per name would be an allocation per
	// name). Void is among them, named "": upstream sorts it in too, and
	// a target type whose non-zero name offset points at "" finds it.
	byName := make(map[string]int32, r.nd)
	names := make([]distName, 0, r.nd)
	nameOf := make([]int32, r.nd)
	for id := btf.TypeID(0); id < r.nd; id++ {
		t, _ := r.dist.Type(id)
		name, _ := r.dist.StringBytes(t.NameOff())
		i, ok := byName[string(name)]
		if !ok {
			i = int32(len(names))
			names = append(names, distName{name: string(name)})
			byName[names[i].name] = i
		}
		names[i].end++
		nameOf[id] = i
	}
	var next int32
	for i := range names {
		n := names[i].end
		names[i].first, names[i].end = next, next
		next += n
	}
	entries := make([]distEntry, r.nd)
	for id, i := range nameOf {
		t, _ := r.dist.Type(btf.TypeID(id))
		n := &names[i]
		entries[n.end] = distEntry{btf.TypeID(id), keySize(t.SizeType())}
		n.end++
	}
	for _, n := range names {
		slices.SortStableFunc(entries[n.first:n.end], func(a, b distEntry) int { return cmp.Compare(b.size, a.size) })
	}

	// The keyed target types whose name a distilled type has, and how
	// many composites share each such name offset (the key of a composite
	// depends on it, so keys are made in a second pass).
	// heads filters target names by their first two bytes before the
	// map lookup: most vmlinux names share no prefix with a module's few
	// distilled names.
	var heads [1 << 16 / 64]uint64
	for _, n := range names {
		h := head(n.name)
		heads[h/64] |= 1 << (h % 64)
	}
	var hits []targetHit
	composites := make(map[uint32]int)
	words, offs := r.target.Words()
	for i, off := range offs[:len(offs)-1] {
		t := btf.Type{ID: btf.TypeID(i + 1), W: words[off:offs[i+1]]}
		if !keyed(t) {
			continue
		}
		b0, b1 := r.target.StringHead(t.NameOff())
		if h := uint16(b0)<<8 | uint16(b1); heads[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		name, err := r.target.StringBytes(t.NameOff())
		if err != nil {
			return stringRange("relocate", t, 0, r.blen)
		}
		n, ok := byName[string(name)]
		if !ok {
			continue
		}
		hits = append(hits, targetHit{t.ID, n})
		if isComposite(t.Kind()) {
			composites[t.NameOff()]++
		}
	}

	r.idMap = make([]btf.TypeID, r.split.NumIDs())
	r.nameMap = make(map[uint32]uint32, r.nd)
	for _, h := range hits {
		bt := r.target.Local(int(h.id - 1))
		n := &names[h.name]
		key := keyOf(n.name, bt, composites[bt.NameOff()]) // TargetKey, the name already in hand
		for _, e := range entries[n.first:n.end] {
			if !key.Admits(n.name, e.size) {
				continue
			}
			if e.id == 0 {
				return &Error{Op: "relocate", Reason: ErrVoidCandidate, Errno: syscall.EINVAL, Type: ref(r.target, bt),
					Detail: "its name offset is not 0 but names the empty string, so it matches the distilled base's void"}
			}
			dt, _ := r.dist.Type(e.id)
			// Upstream keeps the embedded mark in the slot that later
			// holds the match: once mapped, the size is no longer checked.
			if ok, _ := acceptCandidate(dt, bt, r.embedded[e.id] && r.idMap[e.id] == 0); !ok {
				r.noteRefused(e.id)
				continue
			}
			if prev := r.idMap[e.id]; prev != 0 {
				return r.ambiguous(dt, prev, bt)
			}
			r.idMap[e.id] = h.id
			r.nameMap[dt.NameOff()] = bt.NameOff()
		}
	}
	for id := btf.TypeID(1); id < r.nd; id++ {
		if r.idMap[id] == 0 {
			return r.unmapped(id, composites)
		}
	}
	return nil
}

// head is the filter key of a name: its first two bytes.
func head(name string) uint16 {
	switch len(name) {
	case 0:
		return 0
	case 1:
		return uint16(name[0]) << 8
	}
	return uint16(name[0])<<8 | uint16(name[1])
}

// acceptCandidate is the contract's acceptance table. It returns whether
// target type bt is accepted for distilled type dt, and why (not).
func acceptCandidate(dt, bt btf.Type, embedded bool) (bool, string) {
	bk := bt.Kind()
	switch dt.Kind() {
	case btf.KindFwd:
		// Upstream compares the target's kind_flag, which for a
		// composite is its bitfield flag, not the distilled FWD's.
		switch {
		case bk == btf.KindFwd && bt.KindFlag() == dt.KindFlag():
			return true, "FWD of the same kind"
		case bk == btf.KindFwd:
			return false, "FWD of the other kind (struct vs union)"
		case bk == btf.KindStruct && !bt.KindFlag():
			return true, "STRUCT with kind_flag 0"
		case bk == btf.KindUnion && bt.KindFlag():
			return true, "UNION with kind_flag 1"
		case isComposite(bk):
			return false, fmt.Sprintf("%s with kind_flag %d (upstream compares the target's kind_flag)", bk, b2i(bt.KindFlag()))
		}
		return false, fmt.Sprintf("%s is not a FWD, STRUCT or UNION", bk)
	case btf.KindInt:
		if bk != btf.KindInt {
			return false, fmt.Sprintf("%s is not an INT", bk)
		}
		if de, be := dt.W[3]>>24&0xf, bt.W[3]>>24&0xf; de != be {
			return false, fmt.Sprintf("INT encoding %#x, distilled %#x", be, de)
		}
		return true, "INT of the same encoding"
	case btf.KindFloat:
		if bk != btf.KindFloat {
			return false, fmt.Sprintf("%s is not a FLOAT", bk)
		}
		return true, "FLOAT"
	case btf.KindEnum:
		if !isEnum(bk) {
			return false, fmt.Sprintf("%s is not an ENUM or ENUM64", bk)
		}
		return true, bk.String()
	case btf.KindStruct, btf.KindUnion:
		// Upstream checks no kind here: any keyed target kind will do.
		if embedded && dt.SizeType() != bt.SizeType() {
			return false, fmt.Sprintf("embedded: size %d, distilled size %d", bt.SizeType(), dt.SizeType())
		}
		return true, fmt.Sprintf("%s (no kind check for a distilled %s)", bk, dt.Kind())
	}
	return false, fmt.Sprintf("distilled kind %s matches nothing", dt.Kind())
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *relocator) noteRefused(id btf.TypeID) {
	if r.refused == nil {
		r.refused = make(map[btf.TypeID]bool)
	}
	r.refused[id] = true
}

// rewriteIDs renumbers every id field of the split in place: distilled ids
// through the map, split ids by nb - nd.
func (r *relocator) rewriteIDs(out *btf.Spec) error {
	for id := r.nd; id < r.split.NumIDs(); id++ {
		r.idMap[id] = id - r.nd + r.nb
	}
	end := uint32(len(r.idMap))
	for i := range out.NumLocal() {
		t := out.Local(i)
		r.fields = t.IDFields(r.fields[:0])
		for _, f := range r.fields {
			v := t.W[f]
			if v >= end {
				return idRange("relocate", r.split.Local(i), f, r.split.NumIDs())
			}
			t.W[f] = uint32(r.idMap[v])
		}
	}
	return nil
}

// rewriteStrings moves the split's own strings past the target's and turns
// each distilled name into the matched target type's name.
func (r *relocator) rewriteStrings(out *btf.Spec) error {
	for i := range out.NumLocal() {
		t := out.Local(i)
		r.fields = t.StringFields(r.fields[:0])
		for _, f := range r.fields {
			switch off := t.W[f]; {
			case off == 0:
			case off >= r.split.StrEnd():
				return stringRange("relocate", r.split.Local(i), f, r.split.StrEnd())
			case off >= r.dlen:
				t.W[f] = off - r.dlen + r.blen
			default:
				b, ok := r.nameMap[off]
				if !ok {
					name, _ := r.dist.String(off)
					orig := r.split.Local(i)
					return &Error{Op: "relocate", Reason: ErrUnmappedName, Errno: syscall.ENOENT, Type: ref(r.split, orig),
						Detail: fmt.Sprintf("string field at word %d: offset %d ('%s')", f, off, name)}
				}
				t.W[f] = b
			}
		}
	}
	return nil
}
