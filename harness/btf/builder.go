package btf

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Builder assembles a new BTF type by type, for the distiller and for tests.
// Types are given as raw words (see Type); their id and string fields are
// stored as given, so a caller may fix them up later through Words.
type Builder struct {
	order   binary.ByteOrder
	base    *Spec
	words   []uint32
	offs    []uint32
	Strings *StringTable
}

// NewBuilder starts an empty BTF in byte order bo, split on base if base is
// not nil. Its string table starts with "" only when it is standalone.
func NewBuilder(bo binary.ByteOrder, base *Spec) *Builder {
	return &Builder{order: bo, base: base, Strings: NewStringTable(base == nil)}
}

// FirstID is the id the first added type gets.
func (b *Builder) FirstID() TypeID {
	if b.base != nil {
		return b.base.NumIDs()
	}
	return 1
}

// NextID is the id the next added type gets.
func (b *Builder) NextID() TypeID { return b.FirstID() + TypeID(len(b.offs)) }

// Add appends a type given as its words and returns its id.
func (b *Builder) Add(w ...uint32) TypeID {
	id := b.NextID()
	b.offs = append(b.offs, uint32(len(b.words)))
	b.words = append(b.words, w...)
	return id
}

// Grow makes room for about n more words and types, so that a builder
// whose output size is known does not reallocate as it goes.
func (b *Builder) Grow(words, types int) {
	b.words = slices.Grow(b.words, words)
	b.offs = slices.Grow(b.offs, types)
}

// Words returns the words of an added type, for in-place fix-ups.
func (b *Builder) Words(id TypeID) []uint32 {
	i := int(id - b.FirstID())
	end := uint32(len(b.words))
	if i+1 < len(b.offs) {
		end = b.offs[i+1]
	}
	return b.words[b.offs[i]:end:end]
}

// StrStart is the offset the builder's first string byte will have.
func (b *Builder) StrStart() uint32 {
	if b.base != nil {
		return b.base.StrEnd()
	}
	return 0
}

// AddString adds s to the string table and returns its BTF string offset
// (base strings included in the count for a split BTF).
func (b *Builder) AddString(s string) uint32 {
	if s == "" && b.base != nil {
		return 0
	}
	return b.StrStart() + b.Strings.Add(s)
}

// AddStringBytes is AddString for a string held as bytes.
func (b *Builder) AddStringBytes(s []byte) uint32 {
	if len(s) == 0 && b.base != nil {
		return 0
	}
	return b.StrStart() + b.Strings.AddBytes(s)
}

// Spec finishes the BTF: it is encoded with the header libbpf 1.5 writes and
// decoded again, so the result is checked like any input.
func (b *Builder) Spec() (*Spec, error) {
	s, err := parse(b.Bytes(), b.base)
	if err != nil {
		return nil, fmt.Errorf("built BTF does not decode: %w", err)
	}
	return s, nil
}

// Bytes encodes the BTF without checking it (for making malformed inputs).
func (b *Builder) Bytes() []byte {
	h := newHeader()
	h.TypeLen = uint32(4 * len(b.words))
	h.StrOff = h.TypeLen
	h.StrLen = uint32(b.Strings.Len())
	buf := make([]byte, HeaderLen+int(h.TypeLen)+int(h.StrLen))
	putHeader(buf, b.order, h, nil)
	putWords(buf[HeaderLen:], b.order, b.words)
	copy(buf[HeaderLen+h.TypeLen:], b.Strings.Bytes())
	return buf
}
