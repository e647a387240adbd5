package recon

import (
	"bytes"
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
	// The new split's strings are about the split's own plus a few base
	// names; capacity never written costs no memory.
	strs := split.Strings()
	d.out.Strings.Grow(len(strs)+len(strs)/4, bytes.Count(strs, []byte{0})+len(d.used))
	if err := d.buildNewSplit(); err != nil {
		return nil, nil, err
	}
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
			switch id := btf.TypeID(t.W[f]); {
			case id >= d.split.NumIDs():
				return idRange("distill", t, f, d.split.NumIDs())
			case id != 0 && id < d.nb:
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
				switch r := btf.TypeID(bt.W[d.fields[j]]); {
				case r >= d.nb:
					return idRange("distill", bt, d.fields[j], d.nb)
				case r != 0:
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
		kind := t.Kind()
		name, err := d.base.String(t.NameOff())
		if err != nil {
			return stringRange("distill", t, 0, d.base.StrEnd())
		}
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
func (d *distiller) buildNewSplit() error {
	for i := range d.split.NumLocal() {
		if _, err := d.copyType(d.split, d.split.Local(i)); err != nil {
			return err
		}
	}
	for _, id := range d.used {
		if d.newID[id] == 0 {
			t, _ := d.base.Type(id)
			nid, err := d.copyType(d.base, t)
			if err != nil {
				return err
			}
			d.newID[id] = nid
		}
	}
	return nil
}

// copyType appends t's words to the new split with each string moved by
// the string rule (splitString).
func (d *distiller) copyType(from *btf.Spec, t btf.Type) (btf.TypeID, error) {
	id := d.out.Add(t.W...)
	w := d.out.Words(id)
	d.fields = t.StringFields(d.fields[:0])
	for _, f := range d.fields {
		off, err := d.splitString(from, w[f])
		if err != nil {
			return 0, stringRange("distill", t, f, from.StrEnd())
		}
		w[f] = off
	}
	return id, nil
}

// splitString is the string rule of distillation (contract, Distill step
// 5): a string of the split, or of a base type copied into it, is looked up
// whole among the distilled base's strings and takes that offset if it is
// there (so the only base strings a new split refers to are distilled type
// names); otherwise it is added to, or found in, the new split's own table.
// Offset 0 (the empty string) stays 0.
func (d *distiller) splitString(from *btf.Spec, off uint32) (uint32, error) {
	if off == 0 {
		return 0, nil
	}
	s, err := from.StringBytes(off)
	if err != nil {
		return 0, err
	}
	if o, ok := d.dist.Strings.Lookup(s); ok {
		return o, nil
	}
	return d.out.AddStringBytes(s), nil
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
