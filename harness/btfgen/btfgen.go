// Package btfgen generates random, valid base and split BTF for
// differential tests, the one generator of the project (the model against
// libbpf in harness/recon, and the three-way differential of the model, our
// C core and libbpf in harness/threeway).
//
// A case is a base, a split on it and target bases. The base has name
// collisions, same-name types of different sizes, anonymous types and
// every kind. The split mixes random types with the shapes modules have:
// structs holding base types by value (directly and through typedef, const
// and arrays) and by pointer, functions, variables in a section, decl tags.
// The targets are the base itself, the base renumbered, and the base
// mutated the ways kernels drift apart (see mutate). With Options.Distill a
// case is also distilled, and with Options.Hostile some distilled bases or
// new splits get an edit no distiller makes (see hostile.go).
//
// The type graph has no cycle except through PTR, as the C type system
// guarantees: relocation's member walk relies on that.
package btfgen

import (
	"fmt"
	"math/rand/v2"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// Case is one generated input.
type Case struct {
	Seed    uint64
	Base    []byte
	Split   []byte
	Targets []Target

	// With Options.Distill: the distilled base and new split (after the
	// hostile edit, if any), or why distilling refused.
	Distilled, NewSplit []byte
	DistillErr          error
	// Hostile says what hostile edit was made ("" for none).
	Hostile string
}

// Target is a base to relocate onto, with what was done to make it.
type Target struct {
	Name string
	BTF  []byte
}

// node is an abstract type: refs are node indexes (-1 for void).
type node struct {
	kind      btf.Kind
	name      string
	emptyName bool // a non-zero name offset at an empty string
	used      bool // a base type the split uses (it would be distilled or copied)
	size      uint32
	flag      bool
	enc       uint32   // INT data word, VAR linkage, FUNC linkage, DECL_TAG component
	refs      []int    // type references in field order
	names     []string // member, param or enumerator names
	offs      []uint32 // member offsets, array nelems, datasec offsets
	vals      []uint64 // enumerator values
}

var names = []string{"foo", "bar", "baz", "int", "long", "s", "u", "e", "list_head", "task"}

type gen struct {
	r     *rand.Rand
	nodes []node
	names []string // the name pool: the smaller, the more collisions
}

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *gen) maybeName(p float64) string {
	if g.r.Float64() < p {
		return g.pick(g.names)
	}
	return ""
}

// namePool returns n names: the fixed ones first (kernel-like collisions
// such as "int" or "list_head"), then made-up ones.
func namePool(n int) []string {
	if n <= len(names) {
		return names[:max(n, 1)]
	}
	pool := append([]string(nil), names...)
	for i := len(names); i < n; i++ {
		pool = append(pool, fmt.Sprintf("t%d", i))
	}
	return pool
}

// ref picks a referenced node: any earlier one, or (for pointers) any
// node at all; -1 (void) sometimes.
func (g *gen) ref(limit int) int {
	if limit == 0 || g.r.IntN(12) == 0 {
		return -1
	}
	return g.r.IntN(limit)
}

var sizes = []uint32{1, 2, 4, 8}

// intData is an INT's data word: encoding, bit offset 0, nr_bits 8*size.
func intData(encoding, size uint32) uint32 { return encoding<<24 | 8*size }

// add appends a random node whose non-pointer refs are below len(nodes),
// and pointer refs anywhere below hi.
func (g *gen) add(hi int, distillableOnly bool) {
	n := len(g.nodes)
	var nd node
	kinds := []btf.Kind{btf.KindInt, btf.KindInt, btf.KindFloat, btf.KindFwd, btf.KindStruct, btf.KindStruct,
		btf.KindStruct, btf.KindUnion, btf.KindEnum, btf.KindEnum64, btf.KindTypedef, btf.KindPtr, btf.KindPtr,
		btf.KindConst, btf.KindVolatile, btf.KindRestrict, btf.KindTypeTag, btf.KindArray, btf.KindFuncProto}
	if !distillableOnly {
		kinds = append(kinds, btf.KindFunc, btf.KindVar, btf.KindDatasec, btf.KindDeclTag)
	}
	nd.kind = kinds[g.r.IntN(len(kinds))]
	switch nd.kind {
	case btf.KindInt:
		nd.name = g.maybeName(0.95)
		nd.size = sizes[g.r.IntN(4)]
		nd.enc = intData([]uint32{0, btf.IntSigned, btf.IntChar, btf.IntBool}[g.r.IntN(4)], nd.size)
	case btf.KindFloat:
		nd.name = g.maybeName(1)
		nd.size = []uint32{4, 8, 16}[g.r.IntN(3)]
	case btf.KindFwd:
		nd.name = g.maybeName(1)
		nd.flag = g.r.IntN(2) == 0
	case btf.KindStruct, btf.KindUnion:
		nd.name = g.maybeName(0.7)
		nd.flag = g.r.IntN(5) == 0
		nm := g.r.IntN(4)
		off := uint32(0)
		for range nm {
			nd.names = append(nd.names, g.maybeName(0.8))
			r := g.ref(n)
			if g.r.IntN(3) == 0 { // a pointer member may point anywhere
				r = g.ref(hi)
				if r >= 0 && (r >= len(g.nodes) || g.nodes[r].kind != btf.KindPtr) {
					r = g.ptrTo(r)
				}
			}
			nd.refs = append(nd.refs, r)
			o := off
			if nd.flag {
				o |= uint32(g.r.IntN(8)) << 24
			}
			nd.offs = append(nd.offs, o)
			off += 32
		}
		nd.size = off/8 + uint32(g.r.IntN(3))*8
	case btf.KindEnum, btf.KindEnum64:
		nd.name = g.maybeName(0.7)
		nd.size = sizes[g.r.IntN(4)]
		if nd.kind == btf.KindEnum64 {
			nd.size = 8
		}
		nd.flag = g.r.IntN(2) == 0
		for i := range g.r.IntN(3) {
			nd.names = append(nd.names, fmt.Sprintf("V%d", i))
			nd.vals = append(nd.vals, g.r.Uint64())
		}
	case btf.KindTypedef, btf.KindConst, btf.KindVolatile, btf.KindRestrict, btf.KindTypeTag:
		if nd.kind == btf.KindTypedef || nd.kind == btf.KindTypeTag {
			nd.name = g.maybeName(1)
		}
		nd.refs = []int{g.ref(n)}
	case btf.KindPtr:
		nd.refs = []int{g.ref(hi)}

	case btf.KindArray:
		nd.refs = []int{g.ref(n), g.ref(n)}
		nd.offs = []uint32{uint32(g.r.IntN(5))}
	case btf.KindFuncProto:
		nd.refs = []int{g.ref(n)}
		for range g.r.IntN(3) {
			nd.names = append(nd.names, g.maybeName(0.7))
			nd.refs = append(nd.refs, g.ref(n))
		}
	case btf.KindFunc, btf.KindVar, btf.KindDeclTag:
		nd.name = g.maybeName(1)
		if nd.name == "" {
			nd.name = "f"
		}
		target := g.ref(n)
		if nd.kind == btf.KindFunc {
			target = g.protoNode()
		}
		nd.refs = []int{target}
		nd.enc = uint32(g.r.IntN(2))
		if nd.kind == btf.KindDeclTag {
			nd.enc = 0xffffffff // component_idx -1
		}
	case btf.KindDatasec:
		nd.name = ".data"
		v := g.varNode()
		nd.refs = []int{v}
		nd.offs = []uint32{0, 4}
		nd.size = 4
	}
	g.nodes = append(g.nodes, nd)
}

// shape appends one of the split shapes a module has, holding base nodes
// (indexes below nbase): a struct with base types as members by value,
// directly or through a typedef, a const or an array; a pointer; a
// function; a variable in a section; a struct with a decl tag on its
// member.
func (g *gen) shape(nbase int) {
	base := func() int { // a base node; one that cannot be distilled rarely
		for {
			if r := g.r.IntN(nbase); distillable(g.nodes[r].kind) || g.r.IntN(30) == 0 {
				return r
			}
		}
	}
	app := func(nd node) int {
		g.nodes = append(g.nodes, nd)
		return len(g.nodes) - 1
	}
	switch g.r.IntN(6) {
	case 0, 1:
		h := node{kind: btf.KindStruct, name: fmt.Sprintf("holder%d", g.r.IntN(4)), size: 64}
		for j := range 1 + g.r.IntN(3) {
			t := base()
			switch g.r.IntN(4) {
			case 0:
				t = app(node{kind: btf.KindTypedef, name: fmt.Sprintf("s_t%d", g.r.IntN(3)), refs: []int{t}})
			case 1:
				t = app(node{kind: btf.KindConst, refs: []int{t}})
			case 2:
				t = app(node{kind: btf.KindArray, refs: []int{t, base()}, offs: []uint32{2}})
			}
			h.names = append(h.names, g.pick([]string{"a", "foo", "int", "x"}))
			h.refs = append(h.refs, t)
			h.offs = append(h.offs, uint32(32*j))
		}
		app(h)
	case 2:
		app(node{kind: btf.KindPtr, refs: []int{base()}})
	case 3:
		p := app(node{kind: btf.KindFuncProto, refs: []int{base(), base()}, names: []string{"p"}})
		app(node{kind: btf.KindFunc, name: fmt.Sprintf("fn%d", g.r.IntN(3)), refs: []int{p}})
	case 4:
		v := app(node{kind: btf.KindVar, name: "v", refs: []int{base()}, enc: 1})
		app(node{kind: btf.KindDatasec, name: ".data", size: 8, refs: []int{v}, offs: []uint32{0, 4}})
	default:
		s := app(node{kind: btf.KindStruct, name: "tagged", size: 4, refs: []int{base()}, names: []string{"a"}, offs: []uint32{0}})
		app(node{kind: btf.KindDeclTag, name: "t", refs: []int{s}, enc: 0})
	}
}

// markUsed marks the base nodes (below nbase) the split nodes use, the
// way distilling walks them: a named STRUCT or UNION is used, its members
// are not.
func (g *gen) markUsed(nbase int) {
	var walk func(r int)
	walk = func(r int) {
		if r < 0 || r >= nbase || g.nodes[r].used {
			return
		}
		nd := &g.nodes[r]
		nd.used = true
		if (nd.kind == btf.KindStruct || nd.kind == btf.KindUnion) && nd.name != "" {
			return
		}
		for _, x := range nd.refs {
			walk(x)
		}
	}
	for _, nd := range g.nodes[nbase:] {
		for _, r := range nd.refs {
			walk(r)
		}
	}
}

// ptrTo appends a PTR to node r and returns its index.
func (g *gen) ptrTo(r int) int {
	g.nodes = append(g.nodes, node{kind: btf.KindPtr, refs: []int{r}})
	return len(g.nodes) - 1
}

func (g *gen) protoNode() int {
	g.nodes = append(g.nodes, node{kind: btf.KindFuncProto, refs: []int{-1}})
	return len(g.nodes) - 1
}

func (g *gen) varNode() int {
	g.nodes = append(g.nodes, node{kind: btf.KindVar, name: "v", refs: []int{-1}, enc: 1})
	return len(g.nodes) - 1
}
