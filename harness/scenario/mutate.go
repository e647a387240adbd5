package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// Edits of raw BTF for the negative and hostile rows. They work on the
// bytes, in place where they can, so that every other offset stays put
// (a distilled base's string offsets are shared with its split).

// typeWordOffset returns the byte offset in raw of word w of the i-th type
// of s (which raw encodes).
func typeWordOffset(s *btf.Spec, i, w int) int {
	off := int(s.Header().HdrLen) + int(s.Header().TypeOff)
	for j := range i {
		off += 4 * len(s.Local(j).W)
	}
	return off + 4*w
}

func putWord(raw []byte, s *btf.Spec, i, w int, v uint32) {
	s.Order().PutUint32(raw[typeWordOffset(s, i, w):], v)
}

// renameInPlace overwrites the name of the i-th type of s with name, which
// must have the same length.
func renameInPlace(raw []byte, s *btf.Spec, i int, name string) error {
	t := s.Local(i)
	old := s.Name(t)
	if len(old) != len(name) {
		return fmt.Errorf("rename %q to %q: lengths differ", old, name)
	}
	at := int(s.Header().HdrLen) + int(s.Header().StrOff) + int(t.NameOff()-s.StrStart())
	copy(raw[at:], name)
	return nil
}

// swapOrder re-encodes a BTF blob in the other byte order: the header
// fields and every type word (a type section is only 32-bit words).
func swapOrder(raw []byte) []byte {
	out := bytes.Clone(raw)
	swap32 := func(b []byte) { b[0], b[1], b[2], b[3] = b[3], b[2], b[1], b[0] }
	out[0], out[1] = out[1], out[0]
	bo := order(raw)
	hdrLen := int(bo.Uint32(raw[4:]))
	typeOff, typeLen := int(bo.Uint32(raw[8:])), int(bo.Uint32(raw[12:]))
	for o := 4; o+4 <= 24; o += 4 {
		swap32(out[o:])
	}
	for o := hdrLen + typeOff; o+4 <= hdrLen+typeOff+typeLen && o+4 <= len(out); o += 4 {
		swap32(out[o:])
	}
	return out
}

// appendTypes adds types (raw words, native order of s) at the end of the
// type section of raw, moving the string section after them.
func appendTypes(raw []byte, s *btf.Spec, words []uint32) []byte {
	h := s.Header()
	hdrLen := int(h.HdrLen)
	typesEnd := hdrLen + int(h.TypeOff) + int(h.TypeLen)
	add := make([]byte, 4*len(words))
	for i, w := range words {
		s.Order().PutUint32(add[4*i:], w)
	}
	out := append(append(append([]byte{}, raw[:typesEnd]...), add...), raw[typesEnd:]...)
	s.Order().PutUint32(out[12:], h.TypeLen+uint32(len(add)))
	if h.StrOff >= h.TypeOff+h.TypeLen {
		s.Order().PutUint32(out[16:], h.StrOff+uint32(len(add)))
	}
	return out
}

func info(kind btf.Kind, vlen int, kflag bool) uint32 {
	v := uint32(kind)<<24 | uint32(vlen)&0xffff
	if kflag {
		v |= 1 << 31
	}
	return v
}

// Mutation is one edited (.BTF, .BTF.base) pair with the reason it exists.
type Mutation struct {
	Name        string // row label, e.g. "negative:renamed"
	What        string // what was edited, for the report
	Split, Base []byte
}

// firstNamed returns the index of the first distilled type of kind k for
// which ok says yes.
func firstNamed(d *btf.Spec, k btf.Kind, ok func(i int, t btf.Type) bool) int {
	for i := range d.NumLocal() {
		t := d.Local(i)
		if t.Kind() == k && t.NameOff() != 0 && ok(i, t) {
			return i
		}
	}
	return -1
}

// relocErr runs the model on the mutated pair.
func relocErr(split, base []byte, target *btf.Spec) error {
	d, err := btf.Parse(base)
	if err != nil {
		return err
	}
	s, err := btf.ParseSplit(split, d)
	if err != nil {
		return err
	}
	_, _, err = recon.Relocate(d, s, target)
	return err
}

// Negatives builds the three negative rows from one module's distilled
// pair: a type renamed to a name the target lacks, an embedded struct
// grown by 8 bytes, and a struct renamed to a name with two same-size
// candidates in the target. A row that cannot be built from this module
// is left out (the caller tries another module).
func Negatives(d, s *btf.Spec, target *btf.Spec) []Mutation {
	base, split := d.Marshal(), s.Marshal()
	var out []Mutation
	targetNames := map[string]bool{}
	for i := range target.NumLocal() {
		targetNames[target.Name(target.Local(i))] = true
	}

	// Renamed: last letter of a struct name changed until the target has
	// no such name.
	if i := firstNamed(d, btf.KindStruct, func(int, btf.Type) bool { return true }); i >= 0 {
		name := d.Name(d.Local(i))
		for _, c := range "QXZJ" {
			n := name[:len(name)-1] + string(c)
			if targetNames[n] {
				continue
			}
			b := bytes.Clone(base)
			if renameInPlace(b, d, i, n) == nil && errors.Is(relocErr(split, b, target), recon.ErrNoCandidate) {
				out = append(out, Mutation{"negative:renamed", fmt.Sprintf("distilled struct %q renamed %q", name, n), split, b})
				break
			}
		}
	}
	// Embedded size grew.
	for i := range d.NumLocal() {
		t := d.Local(i)
		if t.Kind() != btf.KindStruct && t.Kind() != btf.KindUnion {
			continue
		}
		b := bytes.Clone(base)
		putWord(b, d, i, 2, t.SizeType()+8)
		if errors.Is(relocErr(split, b, target), recon.ErrEmbeddedSize) {
			out = append(out, Mutation{"negative:embedded-size", fmt.Sprintf("embedded %s %q size %d -> %d", t.Kind(), d.Name(t), t.SizeType(), t.SizeType()+8), split, b})
			break
		}
	}
	// Two same-size candidates: a target name held by two STRUCT/UNIONs of
	// one size (keyed by name and size, both accepted), or by a FWD and a
	// single STRUCT/UNION (both keyed by name alone).
	type amb struct {
		name string
		size uint32 // 0: keep the distilled size
	}
	ambiguous := map[int][]amb{} // by name length
	fwd, comp := map[string]int{}, map[string]int{}
	sized := map[string]map[uint32]int{}
	for i := range target.NumLocal() {
		t := target.Local(i)
		n := target.Name(t)
		if n == "" {
			continue
		}
		switch t.Kind() {
		case btf.KindFwd:
			fwd[n]++
		case btf.KindStruct, btf.KindUnion:
			comp[n]++
			if sized[n] == nil {
				sized[n] = map[uint32]int{}
			}
			sized[n][t.SizeType()]++
		}
	}
	for n, c := range fwd {
		if c == 1 && comp[n] == 1 {
			ambiguous[len(n)] = append(ambiguous[len(n)], amb{n, 0})
		}
	}
	for n, bySize := range sized {
		for sz, c := range bySize {
			if c >= 2 {
				ambiguous[len(n)] = append(ambiguous[len(n)], amb{n, sz})
			}
		}
	}
	for _, l := range ambiguous {
		sort.Slice(l, func(i, j int) bool { return l[i].name < l[j].name || l[i].name == l[j].name && l[i].size < l[j].size })
	}
	done := false
	for i := range d.NumLocal() {
		t := d.Local(i)
		if done || t.Kind() != btf.KindStruct || t.NameOff() == 0 {
			continue
		}
		name := d.Name(t)
		for _, a := range ambiguous[len(name)] {
			b := bytes.Clone(base)
			what := fmt.Sprintf("distilled struct %q renamed %q (the target has a FWD and a struct/union of that name)", name, a.name)
			if a.size != 0 {
				putWord(b, d, i, 2, a.size)
				what = fmt.Sprintf("distilled struct %q size %d renamed %q size %d (the target has two structs/unions of that name and size)", name, t.SizeType(), a.name, a.size)
			}
			if renameInPlace(b, d, i, a.name) == nil && errors.Is(relocErr(split, b, target), recon.ErrMultiple) {
				out = append(out, Mutation{"negative:two-candidates", what, split, b})
				done = true
				break
			}
		}
	}
	return out
}

// Hostile builds .BTF.base blobs the kernel must refuse without crashing.
func Hostile(d, s *btf.Spec) []Mutation {
	base, split := d.Marshal(), s.Marshal()
	out := []Mutation{
		{"hostile:other-endian", ".BTF.base byte-swapped (big-endian)", split, swapOrder(base)},
		{"hostile:truncated", fmt.Sprintf(".BTF.base cut to %d of %d bytes", len(base)/2, len(base)), split, bytes.Clone(base[:len(base)/2])},
	}
	if i := firstNamed(d, btf.KindStruct, func(int, btf.Type) bool { return true }); i >= 0 {
		b := bytes.Clone(base)
		putWord(b, d, i, 1, info(btf.KindFunc, 0, false))
		putWord(b, d, i, 2, 0)
		out = append(out, Mutation{"hostile:forbidden-kind", fmt.Sprintf("distilled struct %q turned into a FUNC", d.Name(d.Local(i))), split, b})
		b = bytes.Clone(base)
		putWord(b, d, i, 1, info(btf.KindTypedef, 0, false))
		putWord(b, d, i, 2, 0x7ffff)
		out = append(out, Mutation{"hostile:id-out-of-range", fmt.Sprintf("distilled struct %q turned into a TYPEDEF of type id 0x7ffff", d.Name(d.Local(i))), split, b})
	}
	// A split member pointing past every id.
	for i := range s.NumLocal() {
		t := s.Local(i)
		if (t.Kind() == btf.KindStruct || t.Kind() == btf.KindUnion) && t.Vlen() > 0 {
			b := bytes.Clone(split)
			putWord(b, s, i, 4, 0xfffff)
			out = append(out, Mutation{"hostile:split-id-out-of-range", fmt.Sprintf("split %s [%d] member 0 type id 0xfffff", t.Kind(), t.ID), b, bytes.Clone(base)})
			break
		}
	}
	return out
}

// Cycle adds to the split a struct whose member's type is a typedef that
// loops (A -> B -> A): the embedded-marking walk follows typedefs with no
// cycle bound in 6.12; the model refuses it (recon.ErrCycle).
func Cycle(d, s *btf.Spec) (Mutation, error) {
	var name uint32 // any valid identifier of the split: reuse a type name
	for i := range s.NumLocal() {
		if t := s.Local(i); t.NameOff() != 0 && t.Kind() != btf.KindDatasec && t.Kind() != btf.KindDeclTag {
			name = t.NameOff()
			break
		}
	}
	if name == 0 {
		return Mutation{}, errors.New("cycle: the split has no named type to borrow a name from")
	}
	a := uint32(s.NumIDs())
	words := []uint32{
		name, info(btf.KindTypedef, 0, false), a + 1, // [a] typedef -> [a+1]
		name, info(btf.KindTypedef, 0, false), a, // [a+1] typedef -> [a]
		name, info(btf.KindStruct, 1, false), 8, name, a, 0, // [a+2] struct { [a] m; }
	}
	return Mutation{"hostile:typedef-cycle", fmt.Sprintf("split gains typedef [%d] -> [%d] -> [%d] and struct [%d] embedding it", a, a+1, a, a+2),
		appendTypes(s.Marshal(), s, words), d.Marshal()}, nil
}
