package btfgen

import (
	"fmt"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// The ways mutate changes a target base: what kernels do between releases,
// and the edge cases relocation's matching must get right.
const (
	mutResize      = iota // a sized type gets another size, bit 31 included
	mutFlag               // kind_flag flipped (FWD: struct <-> union)
	mutIntData            // INT encoding, bit offset or nr_bits changed
	mutRename             // renamed, to a fresh name or one of the pool
	mutDup                // a second type of the same name and size
	mutDupResized         // a second type of the same name, another size
	mutFwdSame            // a FWD of a type's own name, at the end
	mutFwdAnywhere        // a FWD of a pool name, anywhere
	mutStructUnion        // STRUCT <-> UNION
	mutEmptyName          // a non-zero name offset at an empty string
	mutPadFirst           // unrelated types first: every id moves
	mutEnum64             // ENUM of size 8 <-> ENUM64
	numMutations
)

func sized(k btf.Kind) bool {
	switch k {
	case btf.KindInt, btf.KindFloat, btf.KindEnum, btf.KindEnum64, btf.KindStruct, btf.KindUnion, btf.KindDatasec:
		return true
	}
	return false
}

// mutate makes one to three edits to nodes, a target base, and says what
// it did.
func (g *gen) mutate(nodes *[]node) string {
	var done []string
	for range 1 + g.r.IntN(3) {
		if what := g.mutateOne(nodes, g.r.IntN(numMutations)); what != "" {
			done = append(done, what)
		}
	}
	if len(done) == 0 {
		return "nothing changed"
	}
	return fmt.Sprint(done)
}

// mutateOne makes the edit op to nodes and says what it did, "" when
// nodes has no type it applies to.
func (g *gen) mutateOne(nodes *[]node, op int) string {
	// find picks a named node for which ok holds, one the split uses
	// three times in four when there is one; -1 if there is none.
	find := func(ok func(node) bool) int {
		var all, used []int
		for i, nd := range *nodes {
			if nd.name != "" && !nd.emptyName && ok(nd) {
				all = append(all, i)
				if nd.used {
					used = append(used, i)
				}
			}
		}
		if len(used) > 0 && g.r.IntN(4) != 0 {
			all = used
		}
		if len(all) == 0 {
			return -1
		}
		return all[g.r.IntN(len(all))]
	}
	named := func(node) bool { return true }
	switch op {
	case mutResize:
		i := find(func(nd node) bool { return sized(nd.kind) })
		if i < 0 {
			return ""
		}
		nd := &(*nodes)[i]
		old := nd.size
		choices := []uint32{old + 4, old | 1<<31}
		for _, c := range []uint32{old * 2, 4, 8} {
			if c != old {
				choices = append(choices, c)
			}
		}
		if nd.kind == btf.KindStruct || nd.kind == btf.KindUnion {
			choices = append(choices, old+8)
		}
		nd.size = choices[g.r.IntN(len(choices))]
		return fmt.Sprintf("%s %s size %d -> %#x", nd.kind, nd.name, old, nd.size)
	case mutFlag:
		i := find(func(nd node) bool {
			switch nd.kind {
			case btf.KindStruct, btf.KindUnion, btf.KindEnum, btf.KindEnum64, btf.KindFwd:
				return true
			}
			return false
		})
		if i < 0 {
			return ""
		}
		nd := &(*nodes)[i]
		nd.flag = !nd.flag
		return fmt.Sprintf("%s %s kind_flag %v", nd.kind, nd.name, nd.flag)
	case mutIntData:
		i := find(func(nd node) bool { return nd.kind == btf.KindInt })
		if i < 0 {
			return ""
		}
		nd := &(*nodes)[i]
		old := nd.enc
		// encoding SIGNED, CHAR or BOOL; nr_bits; bit offset
		nd.enc ^= []uint32{btf.IntSigned << 24, btf.IntChar << 24, btf.IntBool << 24, 3, 1 << 16}[g.r.IntN(5)]
		return fmt.Sprintf("INT %s data %#x -> %#x", nd.name, old, nd.enc)
	case mutRename:
		i := find(named)
		if i < 0 {
			return ""
		}
		nd := &(*nodes)[i]
		old := nd.name
		if g.r.IntN(2) == 0 {
			nd.name += "_v2"
		} else {
			others := []string{"other"}
			for _, n := range g.names {
				if n != old {
					others = append(others, n)
				}
			}
			nd.name = g.pick(others)
		}
		return fmt.Sprintf("%s %s renamed %s", nd.kind, old, nd.name)
	case mutDup, mutDupResized:
		i := find(func(nd node) bool { return op == mutDup || sized(nd.kind) })
		if i < 0 {
			return ""
		}
		dup := (*nodes)[i]
		dup.refs = append([]int(nil), dup.refs...)
		what := "duplicated"
		if op == mutDupResized {
			dup.size += 4
			what = "duplicated with another size"
		}
		*nodes = append(*nodes, dup)
		return fmt.Sprintf("%s %s %s", dup.kind, dup.name, what)
	case mutFwdSame:
		i := find(named)
		if i < 0 {
			return ""
		}
		nd := (*nodes)[i]
		*nodes = append(*nodes, node{kind: btf.KindFwd, name: nd.name, flag: nd.kind == btf.KindUnion})
		return fmt.Sprintf("FWD %s added", nd.name)
	case mutFwdAnywhere:
		at := g.r.IntN(len(*nodes) + 1)
		fwd := node{kind: btf.KindFwd, name: g.pick(g.names), flag: g.r.IntN(2) == 0}
		*nodes = insert(*nodes, at, fwd)
		return fmt.Sprintf("FWD %s inserted at %d", fwd.name, at)
	case mutStructUnion:
		i := find(func(nd node) bool { return nd.kind == btf.KindStruct || nd.kind == btf.KindUnion })
		if i < 0 {
			return ""
		}
		nd := &(*nodes)[i]
		old := nd.kind
		nd.kind ^= btf.KindStruct ^ btf.KindUnion
		return fmt.Sprintf("%s %s became a %s", old, nd.name, nd.kind)
	case mutEmptyName:
		i := find(named)
		if i < 0 {
			return ""
		}
		nd := &(*nodes)[i]
		nd.emptyName = true
		return fmt.Sprintf("%s %s named at an empty string", nd.kind, nd.name)
	case mutPadFirst:
		k := 1 + g.r.IntN(3)
		for range k {
			*nodes = insert(*nodes, 0, node{kind: btf.KindInt, name: "pad", size: 1, enc: intData(0, 1)})
		}
		return fmt.Sprintf("%d types inserted first", k)
	case mutEnum64:
		i := find(func(nd node) bool {
			return nd.kind == btf.KindEnum && nd.size == 8 || nd.kind == btf.KindEnum64
		})
		if i < 0 {
			return ""
		}
		nd := &(*nodes)[i]
		old := nd.kind
		nd.kind ^= btf.KindEnum ^ btf.KindEnum64
		return fmt.Sprintf("%s %s became an %s", old, nd.name, nd.kind)
	}
	return ""
}

// insert puts nd at index at, renumbering every reference.
func insert(nodes []node, at int, nd node) []node {
	out := make([]node, 0, len(nodes)+1)
	out = append(out, nodes[:at]...)
	out = append(out, nd)
	out = append(out, nodes[at:]...)
	for i := range out {
		if i == at {
			continue
		}
		refs := append([]int(nil), out[i].refs...)
		for j, r := range refs {
			if r >= at {
				refs[j] = r + 1
			}
		}
		out[i].refs = refs
	}
	return out
}
