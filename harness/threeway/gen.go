package threeway

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// gtype is an abstract base type; refs are indices of earlier gtypes, so a
// list can be edited (types inserted, renamed, resized) and emitted again
// with every reference renumbered.
type gtype struct {
	kind      btf.Kind
	name      string
	emptyName bool // a non-zero name offset at an empty string
	size      uint32
	flag      bool   // kind_flag; for a FWD: union
	enc       uint32 // INT: the whole data word
	refs      []int
}

var (
	intNames       = []string{"int", "long", "char", "u32"}
	floatNames     = []string{"double", "float"}
	enumNames      = []string{"e", "mode"}
	compositeNames = []string{"foo", "bar", "baz", "int"}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// genBase makes a random base of n types.
func genBase(r *rand.Rand, n int) []gtype {
	var ts []gtype
	for len(ts) < n {
		ts = append(ts, genType(r, ts))
	}
	return ts
}

func genType(r *rand.Rand, ts []gtype) gtype {
	earlier := func() int { return r.IntN(len(ts)) }
	k := r.IntN(14)
	if len(ts) == 0 {
		k = 0
	}
	switch k {
	case 0, 1:
		size := pick(r, []uint32{1, 2, 4, 8})
		return gtype{kind: btf.KindInt, name: pick(r, intNames), size: size,
			enc: pick(r, []uint32{0, btf.IntSigned, btf.IntChar, btf.IntBool})<<24 | size*8}
	case 2:
		return gtype{kind: btf.KindFloat, name: pick(r, floatNames), size: pick(r, []uint32{4, 8})}
	case 3:
		if r.IntN(3) == 0 {
			return gtype{kind: btf.KindEnum64, name: pick(r, enumNames), size: 8, flag: r.IntN(2) == 0}
		}
		return gtype{kind: btf.KindEnum, name: pick(r, enumNames), size: pick(r, []uint32{1, 2, 4, 8}), flag: r.IntN(2) == 0}
	case 4, 5, 6:
		kind := btf.KindStruct
		if r.IntN(3) == 0 {
			kind = btf.KindUnion
		}
		name := pick(r, compositeNames)
		if r.IntN(4) == 0 {
			name = ""
		}
		g := gtype{kind: kind, name: name, size: 4 * uint32(1+r.IntN(4)), flag: r.IntN(6) == 0}
		for range r.IntN(3) {
			g.refs = append(g.refs, earlier())
		}
		return g
	case 7:
		return gtype{kind: btf.KindFwd, name: pick(r, compositeNames), flag: r.IntN(2) == 0}
	case 8:
		return gtype{kind: btf.KindPtr, refs: []int{earlier()}}
	case 9:
		return gtype{kind: btf.KindTypedef, name: fmt.Sprintf("t%d", r.IntN(3)), refs: []int{earlier()}}
	case 10:
		return gtype{kind: pick(r, []btf.Kind{btf.KindConst, btf.KindVolatile, btf.KindRestrict}), refs: []int{earlier()}}
	case 11:
		return gtype{kind: btf.KindArray, size: uint32(1 + r.IntN(4)), refs: []int{earlier(), earlier()}}
	case 12:
		return gtype{kind: btf.KindFuncProto, refs: []int{earlier(), earlier()}}
	}
	return gtype{kind: btf.KindTypeTag, name: "tag", refs: []int{earlier()}}
}

// emit writes ts into b; ids[i] is gtype i's id.
func emit(b *btf.Builder, ts []gtype) {
	ids := make([]btf.TypeID, len(ts))
	for i, g := range ts {
		ref := func(j int) btf.TypeID { return ids[g.refs[j]] }
		name := b.AddString(g.name)
		if g.emptyName {
			name = b.AddString("anon-name") + 9
		} else if g.name == "" {
			name = 0
		}
		switch g.kind {
		case btf.KindInt:
			ids[i] = b.Add(name, btf.MakeInfo(g.kind, 0, false), g.size, g.enc)
		case btf.KindFloat:
			ids[i] = b.Add(name, btf.MakeInfo(g.kind, 0, false), g.size)
		case btf.KindEnum:
			ids[i] = b.Add(name, btf.MakeInfo(g.kind, 1, g.flag), g.size, b.AddString("V"), 1)
		case btf.KindEnum64:
			ids[i] = b.Add(name, btf.MakeInfo(g.kind, 1, g.flag), g.size, b.AddString("V"), 1, 0)
		case btf.KindStruct, btf.KindUnion:
			w := []uint32{name, btf.MakeInfo(g.kind, len(g.refs), g.flag), g.size}
			for j := range g.refs {
				w = append(w, b.AddString(fmt.Sprintf("m%d", j)), uint32(ref(j)), uint32(32*j))
			}
			ids[i] = b.Add(w...)
		case btf.KindFwd:
			ids[i] = b.Add(name, btf.MakeInfo(g.kind, 0, g.flag), 0)
		case btf.KindArray:
			ids[i] = b.Add(0, btf.MakeInfo(g.kind, 0, false), 0, uint32(ref(0)), uint32(ref(1)), g.size)
		case btf.KindFuncProto:
			ids[i] = b.Add(0, btf.MakeInfo(g.kind, 1, false), uint32(ref(0)), b.AddString("p"), uint32(ref(1)))
		default: // PTR, TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG
			if g.kind == btf.KindPtr || g.kind == btf.KindConst || g.kind == btf.KindVolatile || g.kind == btf.KindRestrict {
				name = 0
			}
			ids[i] = b.Add(name, btf.MakeInfo(g.kind, 0, false), uint32(ref(0)))
		}
	}
}

// genSplit adds split types that refer to base ids 1..nb-1: composites
// holding base types by value (through typedef, const and arrays) and by
// pointer, functions, variables and tags.
func genSplit(r *rand.Rand, b *btf.Builder, nb btf.TypeID) {
	base := func() btf.TypeID { return btf.TypeID(1 + r.IntN(int(nb-1))) }
	for range 1 + r.IntN(6) {
		switch r.IntN(6) {
		case 0, 1:
			var ms []btf.Member
			for j := range 1 + r.IntN(3) {
				t := base()
				switch r.IntN(4) {
				case 0:
					t = b.Typedef(fmt.Sprintf("s_t%d", r.IntN(3)), t)
				case 1:
					t = b.Ref(btf.KindConst, "", t)
				case 2:
					t = b.Array(t, base(), 2)
				}
				ms = append(ms, m(pick(r, []string{"a", "foo", "int", "x"}), t, uint32(32*j)))
			}
			b.Struct(fmt.Sprintf("holder%d", r.IntN(4)), 64, ms...)
		case 2:
			b.Ptr(base())
		case 3:
			p := b.FuncProto(base(), btf.Param{Name: "p", Type: base()})
			b.Func(fmt.Sprintf("fn%d", r.IntN(3)), p, 0)
		case 4:
			v := b.Var("v", base(), 1)
			b.Datasec(".data", 8, btf.SecInfo{Type: v, Size: 4})
		default:
			s := b.Struct("tagged", 4, m("a", base(), 0))
			b.DeclTag("t", s, 0)
		}
	}
}

// perturb edits a copy of a base the way kernels drift apart.
func perturb(r *rand.Rand, ts []gtype) []gtype {
	out := make([]gtype, len(ts))
	for i, g := range ts {
		out[i] = g
		out[i].refs = append([]int(nil), g.refs...)
	}
	named := func() int {
		for range 20 {
			if i := r.IntN(len(out)); out[i].name != "" {
				return i
			}
		}
		return -1
	}
	for range 1 + r.IntN(3) {
		switch r.IntN(10) {
		case 0: // resize
			if i := named(); i >= 0 {
				out[i].size = pick(r, []uint32{out[i].size + 4, out[i].size * 2, 4, 8, out[i].size | 0x80000000})
			}
		case 1: // flip kind_flag
			if i := named(); i >= 0 {
				out[i].flag = !out[i].flag
			}
		case 2: // INT encoding or bits
			if i := named(); i >= 0 && out[i].kind == btf.KindInt {
				out[i].enc ^= pick(r, []uint32{1 << 24, 2 << 24, 4 << 24, 3, 1 << 16})
			}
		case 3: // rename
			if i := named(); i >= 0 {
				out[i].name = pick(r, append(append(intNames, compositeNames...), "other"))
			}
		case 4: // duplicate a named type at the end
			if i := named(); i >= 0 {
				out = append(out, out[i])
			}
		case 5: // a FWD somewhere
			at := r.IntN(len(out) + 1)
			out = insert(out, at, gtype{kind: btf.KindFwd, name: pick(r, compositeNames), flag: r.IntN(2) == 0})
		case 6: // struct <-> union
			if i := named(); i >= 0 && (out[i].kind == btf.KindStruct || out[i].kind == btf.KindUnion) {
				out[i].kind ^= btf.KindStruct ^ btf.KindUnion
			}
		case 7: // a name offset at an empty string
			if i := named(); i >= 0 && r.IntN(3) == 0 {
				out[i].emptyName = true
			}
		case 8: // unrelated types first: everything renumbers
			for range 1 + r.IntN(3) {
				out = insert(out, 0, gtype{kind: btf.KindInt, name: "pad", size: 1, enc: 8})
			}
		default: // ENUM <-> ENUM64
			if i := named(); i >= 0 && out[i].kind == btf.KindEnum && out[i].size == 8 {
				out[i].kind = btf.KindEnum64
			} else if i >= 0 && out[i].kind == btf.KindEnum64 {
				out[i].kind = btf.KindEnum
			}
		}
	}
	return out
}

// insert puts g at index at, renumbering references.
func insert(ts []gtype, at int, g gtype) []gtype {
	out := make([]gtype, 0, len(ts)+1)
	out = append(out, ts[:at]...)
	out = append(out, g)
	out = append(out, ts[at:]...)
	for i := range out {
		if i == at {
			continue
		}
		for j, ref := range out[i].refs {
			if ref >= at {
				out[i].refs[j] = ref + 1
			}
		}
	}
	return out
}

// GenInputs makes n random cases from seed: a base and split, distilled by
// the model, relocated onto the original base and onto perturbed copies;
// some cases also get a hostile edit of the distilled base or the split.
// Cases whose distill fails (an enum size libbpf cannot add) are skipped.
func GenInputs(seed uint64, n int) ([]Input, error) {
	r := rand.New(rand.NewPCG(seed, 0x627466))
	var ins []Input
	for c := 0; len(ins) < n; c++ {
		bo := binary.ByteOrder(binary.LittleEndian)
		if r.IntN(16) == 0 {
			bo = binary.BigEndian
		}
		gb := genBase(r, 3+r.IntN(20))
		bb := btf.NewBuilder(bo, nil)
		emit(bb, gb)
		base, err := bb.Spec()
		if err != nil {
			return nil, fmt.Errorf("case %d: base: %w", c, err)
		}
		sb := btf.NewBuilder(bo, base)
		genSplit(r, sb, base.NumIDs())
		split, err := sb.Spec()
		if err != nil {
			return nil, fmt.Errorf("case %d: split: %w", c, err)
		}
		d, s, err := recon.Distill(base, split)
		if err != nil {
			continue
		}
		dRaw, sRaw := d.Marshal(), s.Marshal()
		switch r.IntN(12) {
		case 0:
			dRaw = hostileDistilled(r, d)
		case 1:
			sRaw = hostileSplit(r, d, s)
		}
		for k := range 1 + r.IntN(4) {
			gt := gb
			if k > 0 {
				gt = perturb(r, gb)
			}
			tb := btf.NewBuilder(bo, nil)
			emit(tb, gt)
			t, err := NewTarget("gen", tb.Bytes())
			if err != nil {
				return nil, fmt.Errorf("case %d target %d: %w", c, k, err)
			}
			ins = append(ins, Input{Name: fmt.Sprintf("gen/%d/case%d/target%d", seed, c, k), D: dRaw, S: sRaw, T: t})
		}
	}
	return ins, nil
}

// hostileDistilled edits one distilled type: a kind no distiller makes, no
// name, another size or kind_flag.
func hostileDistilled(r *rand.Rand, d *btf.Spec) []byte {
	c := d.Copy()
	if c.NumLocal() == 0 {
		return c.Marshal()
	}
	t := c.Local(r.IntN(c.NumLocal()))
	switch r.IntN(4) {
	case 0:
		// keep the record length: the codec must still decode it
		switch {
		case t.Kind() == btf.KindEnum && t.Vlen() == 0:
			t.W[1] = btf.MakeInfo(btf.KindEnum64, 0, false)
		case len(t.W) == 4:
			t.W[1] = btf.MakeInfo(btf.KindVar, 0, false)
			t.W[2], t.W[3] = 0, 0
		case len(t.W) == 3:
			t.W[1] = btf.MakeInfo(btf.KindTypedef, 0, false)
			t.W[2] = 0
		}
	case 1:
		t.W[0] = 0
	case 2:
		t.W[2] += 4
	default:
		t.W[1] ^= 1 << 31
	}
	return c.Marshal()
}

// hostileSplit points one split string field into the middle of a
// distilled name, or at a distilled name from a member.
func hostileSplit(r *rand.Rand, d, s *btf.Spec) []byte {
	c := s.Copy()
	if c.NumLocal() == 0 || d.StrEnd() < 3 {
		return c.Marshal()
	}
	t := c.Local(r.IntN(c.NumLocal()))
	fields := t.StringFields(nil)
	f := fields[r.IntN(len(fields))]
	t.W[f] = 1 + uint32(r.IntN(int(d.StrEnd()-2)))
	return c.Marshal()
}

func m(name string, id btf.TypeID, off uint32) btf.Member {
	return btf.Member{Name: name, Type: id, Offset: off}
}
