package btfgen

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// Options size a case.
type Options struct {
	BaseTypes  int // about this many base types
	SplitTypes int // about this many split types
	BigEndian  bool
	// Names is the size of the name pool (default 10): small pools make
	// same-name types, and so ambiguous matches, common.
	Names int
	// Distill, when set, distils each case's split (recon.Distill: the
	// model, which this package cannot import). The case then holds the
	// distilled base and new split, or DistillErr.
	Distill func(base, split *btf.Spec) (distilled, newSplit *btf.Spec, err error)
	// Hostile, with Distill: about one case in Hostile gets one hostile
	// edit, of its distilled base or of its new split (half each).
	Hostile int
}

// withDefaults fills in the sizes left zero.
func (opt Options) withDefaults() Options {
	if opt.BaseTypes == 0 {
		opt.BaseTypes = 24
	}
	if opt.SplitTypes == 0 {
		opt.SplitTypes = 10
	}
	if opt.Names == 0 {
		opt.Names = len(names)
	}
	return opt
}

// newGen makes the nodes of seed's base (the first nbase) and split, and
// marks the base nodes the split uses.
func newGen(seed uint64, opt Options) (g *gen, nbase int) {
	g = &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), names: namePool(opt.Names)}
	for len(g.nodes) < opt.BaseTypes {
		g.add(opt.BaseTypes, g.r.IntN(6) != 0)
	}
	nbase = len(g.nodes)
	// Split: module shapes and random types, referring to base nodes or
	// earlier split nodes; base FUNC, VAR, DATASEC and DECL_TAG (which
	// cannot be distilled) are rarely named.
	for len(g.nodes) < nbase+opt.SplitTypes {
		if g.r.IntN(2) == 0 {
			g.shape(nbase)
			continue
		}
		g.add(nbase+opt.SplitTypes, false)
		nd := &g.nodes[len(g.nodes)-1]
		for i, r := range nd.refs {
			if r >= 0 && r < nbase && !distillable(g.nodes[r].kind) && g.r.IntN(30) != 0 {
				nd.refs[i] = -1
			}
		}
	}
	g.markUsed(nbase)
	return g, nbase
}

// New generates the case for seed.
func New(seed uint64, opt Options) (*Case, error) {
	opt = opt.withDefaults()
	var bo binary.ByteOrder = binary.LittleEndian
	if opt.BigEndian {
		bo = binary.BigEndian
	}
	g, nbase := newGen(seed, opt)
	c := &Case{Seed: seed}

	// Base, in node order.
	bb := btf.NewBuilder(bo, nil)
	baseIDs := emit(bb, g.nodes, identity(nbase), nil)
	base, err := bb.Spec()
	if err != nil {
		return nil, fmt.Errorf("btfgen seed %d: base: %w", seed, err)
	}
	c.Base = bb.Bytes()
	sb := btf.NewBuilder(bo, base)
	emit(sb, g.nodes, identity(len(g.nodes))[nbase:], baseIDs)
	c.Split = sb.Bytes()
	split, err := btf.ParseSplit(c.Split, base)
	if err != nil {
		return nil, fmt.Errorf("btfgen seed %d: split: %w", seed, err)
	}

	// Targets. Mutations go mostly to the base types the split uses: an
	// edit of any other type cannot change a relocation.
	c.Targets = append(c.Targets, Target{"same base", c.Base})
	for _, mut := range []struct {
		name    string
		mutate  bool
		extra   int
		shuffle bool
	}{
		{"renumbered", false, 3, true},
		{"mutated", true, 2, true},
		{"mutated in place", true, 0, false},
	} {
		nodes := append([]node(nil), g.nodes[:nbase]...)
		what := mut.name
		if mut.mutate {
			what += ": " + g.mutate(&nodes)
		}
		tg := &gen{r: g.r, nodes: nodes, names: g.names}
		for range mut.extra {
			tg.add(len(tg.nodes)+1, true)
		}
		order := identity(len(tg.nodes))
		if mut.shuffle {
			g.r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		tb := btf.NewBuilder(bo, nil)
		emit(tb, tg.nodes, order, nil)
		if _, err := tb.Spec(); err != nil {
			return nil, fmt.Errorf("btfgen seed %d: target %s: %w", seed, what, err)
		}
		c.Targets = append(c.Targets, Target{what, tb.Bytes()})
	}

	if opt.Distill != nil {
		d, s2, err := opt.Distill(base, split)
		if err != nil {
			c.DistillErr = err
			return c, nil
		}
		c.Distilled, c.NewSplit = d.Marshal(), s2.Marshal()
		if opt.Hostile > 0 && g.r.IntN(opt.Hostile) == 0 {
			c.Distilled, c.NewSplit, c.Hostile = hostile(g.r, d, s2)
		}
	}
	return c, nil
}

func identity(n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = i
	}
	return o
}

func distillable(k btf.Kind) bool {
	switch k {
	case btf.KindFunc, btf.KindVar, btf.KindDatasec, btf.KindDeclTag:
		return false
	}
	return true
}

// emit adds nodes[order...] to b and returns node index -> id for the
// nodes it added. outer maps the nodes emitted earlier (the base's, for a
// split), nil for none.
func emit(b *btf.Builder, nodes []node, order []int, outer map[int]btf.TypeID) map[int]btf.TypeID {
	ids := make(map[int]btf.TypeID, len(order)+len(outer))
	for k, v := range outer {
		ids[k] = v
	}
	next := b.NextID()
	for _, i := range order {
		ids[i] = next
		next++
	}
	id := func(r int) btf.TypeID {
		if r < 0 {
			return 0
		}
		return ids[r]
	}
	var emptyName uint32
	for _, i := range order {
		nd := nodes[i]
		var t btf.TypeID
		switch nd.kind {
		case btf.KindInt:
			t = b.Int(nd.name, nd.size, 0)
			b.Words(t)[3] = nd.enc
		case btf.KindFloat:
			t = b.Float(nd.name, nd.size)
		case btf.KindFwd:
			t = b.Fwd(nd.name, nd.flag)
		case btf.KindStruct, btf.KindUnion:
			ms := make([]btf.Member, len(nd.refs))
			for j, r := range nd.refs {
				ms[j] = btf.Member{Name: nd.names[j], Type: id(r), Offset: nd.offs[j]}
			}
			t = b.Composite(nd.kind, nd.name, nd.size, nd.flag, ms...)
		case btf.KindEnum, btf.KindEnum64:
			vs := make([]btf.Enumerator, len(nd.vals))
			for j, v := range nd.vals {
				vs[j] = btf.Enumerator{Name: nd.names[j], Value: v}
			}
			if nd.kind == btf.KindEnum {
				t = b.Enum(nd.name, nd.size, nd.flag, vs...)
			} else {
				t = b.Enum64(nd.name, nd.size, nd.flag, vs...)
			}
		case btf.KindTypedef, btf.KindConst, btf.KindVolatile, btf.KindRestrict, btf.KindTypeTag, btf.KindPtr:
			t = b.Ref(nd.kind, nd.name, id(nd.refs[0]))
		case btf.KindArray:
			t = b.Array(id(nd.refs[0]), id(nd.refs[1]), nd.offs[0])
		case btf.KindFuncProto:
			ps := make([]btf.Param, len(nd.refs)-1)
			for j := range ps {
				ps[j] = btf.Param{Name: nd.names[j], Type: id(nd.refs[j+1])}
			}
			t = b.FuncProto(id(nd.refs[0]), ps...)
		case btf.KindFunc:
			t = b.Func(nd.name, id(nd.refs[0]), int(nd.enc))
		case btf.KindVar:
			t = b.Var(nd.name, id(nd.refs[0]), nd.enc)
		case btf.KindDatasec:
			t = b.Datasec(nd.name, nd.size, btf.SecInfo{Type: id(nd.refs[0]), Offset: nd.offs[0], Size: nd.offs[1]})
		case btf.KindDeclTag:
			t = b.DeclTag(nd.name, id(nd.refs[0]), int32(nd.enc))
		}
		if nd.emptyName {
			if emptyName == 0 { // the NUL that ends "anon-name"
				emptyName = b.AddString("anon-name") + uint32(len("anon-name"))
			}
			b.Words(t)[0] = emptyName
		}
	}
	return ids
}
