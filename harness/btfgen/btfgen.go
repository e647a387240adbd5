// Package btfgen generates random, valid base and split BTF for
// differential tests: name collisions, same-name types of different sizes,
// anonymous types, structs embedded by value and reached through pointers,
// every kind. A case also holds target bases: the base renumbered, and
// mutated the ways kernels change between releases (a struct grows, a
// type is renamed, a second same-named type appears).
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
}

// Target is a base to relocate onto, with what was done to make it.
type Target struct {
	Name string
	BTF  []byte
}

// node is an abstract type: refs are node indexes (-1 for void).
type node struct {
	kind  btf.Kind
	name  string
	size  uint32
	flag  bool
	enc   uint32   // INT encoding, VAR linkage, FUNC linkage, DECL_TAG component
	refs  []int    // type references in field order
	names []string // member, param or enumerator names
	offs  []uint32 // member offsets, array nelems, datasec offsets
	vals  []uint64 // enumerator values
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
		nd.enc = []uint32{0, btf.IntSigned, btf.IntChar, btf.IntBool}[g.r.IntN(4)]
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
