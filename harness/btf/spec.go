package btf

import (
	"encoding/binary"
	"fmt"
)

// Spec is one decoded BTF blob: a standalone BTF (ids from 1) or a split BTF
// whose ids and string offsets continue after its base's.
type Spec struct {
	order    binary.ByteOrder
	hdr      Header
	hdrExtra []byte // header bytes past HeaderLen, kept for encoding
	layout   []byte // the kind-layout section (Linux 7.2), kept byte for byte
	base     *Spec

	firstID  TypeID // id of the first local type
	strStart uint32 // string offset of the first local string byte
	words    []uint32
	offs     []uint32 // offs[i] is type i's first word; one extra entry at the end
	strs     []byte
	raw      []byte // the blob decoded from, for Encoded
}

// Type is one type in its on-disk shape: W[0] name_off, W[1] info,
// W[2] size or type, then the kind's trailer. W aliases the Spec's storage:
// writing to it changes the Spec (that is how relocation rewrites a Copy in
// place). A decoded Spec's storage may be the blob it was decoded from (see
// Parse): write only to a Copy's types.
type Type struct {
	ID TypeID
	W  []uint32
}

// Void is the type with id 0.
var voidWords = [3]uint32{}

func (t Type) NameOff() uint32  { return t.W[0] }
func (t Type) Info() uint32     { return t.W[1] }
func (t Type) Kind() Kind       { return infoKind(t.W[1]) }
func (t Type) Vlen() int        { return infoVlen(t.W[1]) }
func (t Type) KindFlag() bool   { return infoKindFlag(t.W[1]) }
func (t Type) SizeType() uint32 { return t.W[2] }

// IDFields appends the word indices of the type's type-id fields.
func (t Type) IDFields(dst []int) []int { return IDFields(dst, t.Kind(), t.Vlen()) }

// StringFields appends the word indices of the type's string fields.
func (t Type) StringFields(dst []int) []int { return StringFields(dst, t.Kind(), t.Vlen()) }

// Order is the blob's byte order.
func (s *Spec) Order() binary.ByteOrder { return s.order }

// Header returns the header as decoded (or as it will be written).
func (s *Spec) Header() Header { return s.hdr }

// Base is the base of a split BTF, nil for a standalone one.
func (s *Spec) Base() *Spec { return s.base }

// FirstID is the id of the first type this blob holds: 1 for a standalone
// BTF, the base's NumIDs for a split one.
func (s *Spec) FirstID() TypeID { return s.firstID }

// NumIDs is one past the highest valid id: ids 0..NumIDs()-1 name void, the
// base's types and this blob's types. For a standalone BTF it is the
// contract's nb (type count including void).
func (s *Spec) NumIDs() TypeID { return s.firstID + TypeID(s.NumLocal()) }

// NumLocal is the number of types this blob itself holds.
func (s *Spec) NumLocal() int { return len(s.offs) - 1 }

// StrStart is the string offset of this blob's first string byte: 0 for a
// standalone BTF, the sum of its bases' string lengths for a split one.
func (s *Spec) StrStart() uint32 { return s.strStart }

// Strings is this blob's own string section.
func (s *Spec) Strings() []byte { return s.strs }

// StrEnd is one past the highest valid string offset.
func (s *Spec) StrEnd() uint32 { return s.strStart + uint32(len(s.strs)) }

// Local returns the i-th type this blob holds (id FirstID()+i).
func (s *Spec) Local(i int) Type {
	return Type{ID: s.firstID + TypeID(i), W: s.words[s.offs[i]:s.offs[i+1]:s.offs[i+1]]}
}

// Words exposes the local types' storage for hot loops: type i occupies
// words[offs[i]:offs[i+1]]. Writing changes the Spec, as with Type.W.
func (s *Spec) Words() (words, offs []uint32) { return s.words, s.offs }

// Type returns the type with the given id, looking in the bases as needed.
// Id 0 is void (three zero words).
func (s *Spec) Type(id TypeID) (Type, error) {
	switch {
	case id == 0:
		return Type{W: voidWords[:]}, nil
	case id >= s.NumIDs():
		return Type{}, fmt.Errorf("type [%d]: %w (have %d ids)", id, ErrTypeIDRange, s.NumIDs())
	case id < s.firstID:
		return s.base.Type(id)
	}
	return s.Local(int(id - s.firstID)), nil
}

// String returns the NUL-terminated string at offset off, looking in the
// bases as needed.
func (s *Spec) String(off uint32) (string, error) {
	b, err := s.StringBytes(off)
	return string(b), err
}

// StringBytes is String without the copy: the bytes alias the Spec.
func (s *Spec) StringBytes(off uint32) ([]byte, error) {
	if off < s.strStart {
		return s.base.StringBytes(off)
	}
	local := off - s.strStart
	if local >= uint32(len(s.strs)) {
		return nil, fmt.Errorf("string offset %d: %w (strings end at %d)", off, ErrStringRange, s.StrEnd())
	}
	b := s.strs[local:]
	for i, c := range b {
		if c == 0 {
			return b[:i:i], nil
		}
	}
	return b, nil // unreachable for a decoded Spec: the section ends in NUL
}

// StringHead returns the first two bytes of the string at off (0 past its
// end) without looking for its end: a cheap filter before a full compare.
func (s *Spec) StringHead(off uint32) (byte, byte) {
	if off < s.strStart {
		return s.base.StringHead(off)
	}
	local := off - s.strStart
	if local >= uint32(len(s.strs)) {
		return 0, 0
	}
	if s.strs[local] == 0 || local+1 >= uint32(len(s.strs)) {
		return s.strs[local], 0
	}
	return s.strs[local], s.strs[local+1]
}

// Name returns the type's name, "" for an anonymous type or a bad offset.
func (s *Spec) Name(t Type) string {
	n, _ := s.String(t.NameOff())
	return n
}

// Layout is the kind-layout section (a struct btf_layout per kind the
// encoder knew: Linux 7.2, libbpf 1.8), nil when the blob has none. It is
// kept as it was and written back where it was.
func (s *Spec) Layout() []byte { return s.layout }

// Copy returns a Spec with its own copy of the type words, so that the copy
// can be rewritten in place without touching s. Strings stay shared: they
// are never written.
func (s *Spec) Copy() *Spec {
	c := *s
	c.words = append([]uint32(nil), s.words...)
	return &c
}
