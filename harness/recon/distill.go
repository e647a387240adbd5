package recon

import (
	"fmt"
	"slices"
	"syscall"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// Distill splits a module's split BTF (parsed on its full base) into a
// distilled base, holding only the base types the module uses, and a new
// split BTF on that distilled base. It reproduces libbpf 1.5.0's
// btf__distill_base() byte for byte; both outputs take the split's byte
// order.
func Distill(base, split *btf.Spec) (distilled, newSplit *btf.Spec, err error) {
	if split.Base() == nil || split.Base() != base {
		return nil, nil, &Error{Op: "distill", Reason: ErrNotSplit, Errno: syscall.EINVAL,
			Detail: "the split BTF must be parsed on the base it is distilled from"}
	}
	d := &distiller{
		base:  base,
		split: split,
		nb:    base.NumIDs(),
		newID: make(map[btf.TypeID]btf.TypeID),
		dist:  btf.NewBuilder(split.Order(), nil),
	}
	if err := d.markUsed(); err != nil {
		return nil, nil, err
	}
	if err := d.buildDistilledBase(); err != nil {
		return nil, nil, err
	}
	if distilled, err = d.dist.Spec(); err != nil {
		return nil, nil, fmt.Errorf("distill: %w", err)
	}
	d.out = btf.NewBuilder(split.Order(), distilled)
	words, _ := split.Words()
	d.out.Grow(len(words)+len(words)/4, split.NumLocal()+len(d.used))
	d.buildNewSplit()
	d.rewriteIDs()
	if newSplit, err = d.out.Spec(); err != nil {
		return nil, nil, fmt.Errorf("distill: %w", err)
	}
	return distilled, newSplit, nil
}

type distiller struct {
	base, split *btf.Spec
	nb          btf.TypeID // the full base's NumIDs
	// newID holds every used base type (referenced by the split, directly
	// or not) and, once placed, its id in the distilled base or the new
	// split. A map: a module uses a few of vmlinux's 100k types.
	newID       map[btf.TypeID]btf.TypeID
	used        []btf.TypeID // the same ids, in increasing order
	dist, out   *btf.Builder // the distilled base and the new split
	fields, top []int        // scratch
}

// markUsed marks every base type the split refers to, and what those refer
// to in turn, except through a named STRUCT/UNION: the distilled base keeps
// those memberless, so their members are not needed.
func (d *distiller) markUsed() error {
	var stack []btf.TypeID
	for i := range d.split.NumLocal() {
		t := d.split.Local(i)
		d.top = t.IDFields(d.top[:0])
		for _, f := range d.top {
			if id := btf.TypeID(t.W[f]); id != 0 && id < d.nb {
				stack = append(stack, id)
			}
		}
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if _, seen := d.newID[id]; seen {
				continue
			}
			d.newID[id] = 0
			d.used = append(d.used, id)
			bt, _ := d.base.Type(id)
			if !distillable(bt.Kind()) {
				return &Error{Op: "distill", Reason: ErrBadReferencedKind, Errno: syscall.EINVAL,
					Type:   ref(d.base, bt),
					Detail: fmt.Sprintf("referred to (directly or not) by split type [%d]", t.ID)}
			}
			if isComposite(bt.Kind()) && bt.NameOff() != 0 {
				continue
			}
			d.fields = bt.IDFields(d.fields[:0])
			for j := len(d.fields) - 1; j >= 0; j-- { // pushed in reverse: popped in field order
				if r := btf.TypeID(bt.W[d.fields[j]]); r != 0 {
					stack = append(stack, r)
				}
			}
		}
	}
	slices.Sort(d.used)
	return nil
}

// distillable lists the base kinds a split BTF may refer to.
func distillable(k btf.Kind) bool {
	switch k {
	case btf.KindInt, btf.KindFloat, btf.KindFwd, btf.KindArray, btf.KindStruct, btf.KindUnion,
		btf.KindTypedef, btf.KindEnum, btf.KindEnum64, btf.KindPtr, btf.KindConst,
		btf.KindRestrict, btf.KindVolatile, btf.KindFuncProto, btf.KindTypeTag:
		return true
	}
	return false
}

func isComposite(k btf.Kind) bool { return k == btf.KindStruct || k == btf.KindUnion }

func isEnum(k btf.Kind) bool { return k == btf.KindEnum || k == btf.KindEnum64 }

// buildDistilledBase adds, in base id order, every used INT, FLOAT and FWD
// as it is, and every used named STRUCT/UNION/ENUM/ENUM64 as a memberless
// type of the same name and size (enums become ENUM). Everything else is
// copied into the new split by buildNewSplit.
func (d *distiller) buildDistilledBase() error {
	for _, id := range d.used {
		t, _ := d.base.Type(id)
		kind, name := t.Kind(), d.base.Name(t)
		switch {
		case kind == btf.KindInt || kind == btf.KindFloat || kind == btf.KindFwd:
			w := append([]uint32(nil), t.W...)
			w[0] = d.dist.AddString(name)
			d.newID[id] = d.dist.Add(w...)
		case isComposite(kind) && name != "":
			d.newID[id] = d.dist.Add(d.dist.AddString(name), btf.MakeInfo(kind, 0, false), t.SizeType())
		case isEnum(kind) && name != "":
			if sz := t.SizeType(); sz != 1 && sz != 2 && sz != 4 && sz != 8 {
				return &Error{Op: "distill", Reason: ErrBadEnumSize, Errno: syscall.EINVAL, Type: ref(d.base, t)}
			}
			d.newID[id] = d.dist.Add(d.dist.AddString(name), btf.MakeInfo(btf.KindEnum, 0, false), t.SizeType())
		}
	}
	return nil
}

// buildNewSplit adds every original split type, then, in base id order,
// every used base type the distilled base does not hold, copied whole.
// Ids are fixed afterwards by rewriteIDs; strings are added here, in the
// order the types and their string fields come.
func (d *distiller) buildNewSplit() {
	for i := range d.split.NumLocal() {
		d.copyType(d.split, d.split.Local(i))
	}
	for _, id := range d.used {
		if d.newID[id] == 0 {
			t, _ := d.base.Type(id)
			d.newID[id] = d.copyType(d.base, t)
		}
	}
}

// copyType appends t's words to the new split with its strings moved into
// the new string space (see newString).
func (d *distiller) copyType(from *btf.Spec, t btf.Type) btf.TypeID {
	id := d.out.Add(t.W...)
	w := d.out.Words(id)
	d.fields = t.StringFields(d.fields[:0])
	for _, f := range d.fields {
		w[f] = d.newString(from, w[f])
	}
	return id
}

// newString gives a string of the original BTF its offset in the new split:
// a distilled base string if the distilled base holds it whole, else one of
// the split's own. Offset 0 (the empty string) stays.
func (d *distiller) newString(from *btf.Spec, off uint32) uint32 {
	if off == 0 {
		return 0
	}
	s, _ := from.StringBytes(off)
	if o, ok := d.dist.Strings.Lookup(s); ok {
		return o
	}
	return d.out.AddStringBytes(s)
}

// rewriteIDs renumbers the id fields of every new split type: base ids to
// their new id, original split ids down by the number of base types that
// did not make it into the distilled base.
func (d *distiller) rewriteIDs() {
	shift := d.nb - d.dist.NextID()
	first := d.out.FirstID()
	for id := first; id < d.out.NextID(); id++ {
		w := d.out.Words(id)
		d.fields = (btf.Type{W: w}).IDFields(d.fields[:0])
		for _, f := range d.fields {
			switch old := btf.TypeID(w[f]); {
			case old == 0:
			case old < d.nb:
				w[f] = uint32(d.newID[old])
			default:
				w[f] = uint32(old - shift)
			}
		}
	}
}
