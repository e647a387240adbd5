package btf

import "fmt"

// TypeID is a BTF type id. 0 is void.
type TypeID uint32

// Kind is a BTF kind, as stored in bits 24-28 of a type's info word.
type Kind uint8

// The kinds this codec understands (the kernel's BTF_KIND_*, 6.12).
const (
	KindUnknown Kind = iota
	KindInt
	KindPtr
	KindArray
	KindStruct
	KindUnion
	KindEnum
	KindFwd
	KindTypedef
	KindVolatile
	KindConst
	KindRestrict
	KindFunc
	KindFuncProto
	KindVar
	KindDatasec
	KindFloat
	KindDeclTag
	KindTypeTag
	KindEnum64

	// MaxKind is the highest kind this codec (and Linux 6.12) knows.
	MaxKind = KindEnum64
)

var kindNames = [...]string{
	"UNKN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF",
	"VOLATILE", "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC",
	"FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64",
}

// String returns the kind's name as bpftool prints it.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("KIND(%d)", uint8(k))
}

// Layout constants of the on-disk format.
const (
	Magic     = 0xeb9f
	Version   = 1
	HeaderLen = 24 // the header of Linux 6.12 and libbpf 1.5
	// LayoutHeaderLen is the header of Linux 7.2 and libbpf 1.8: two more
	// words, layout_off and layout_len, for an optional kind-layout section.
	LayoutHeaderLen = 32
	// layoutEntry is the size of one struct btf_layout (info_sz, elem_sz,
	// flags).
	layoutEntry  = 4
	typeHdrWords = 3 // name_off, info, size/type

	// infoMask is the set of info bits Linux 6.12 accepts: vlen (0-15),
	// kind (24-28) and kind_flag (31).
	infoMask = 0x9f00ffff

	// maxNameOffset is the largest string offset the kernel and libbpf
	// accept (BTF_MAX_NAME_OFFSET).
	maxNameOffset = 0xffffff
)

// Info word accessors.
func infoKind(info uint32) Kind     { return Kind(info >> 24 & 0x1f) }
func infoVlen(info uint32) int      { return int(info & 0xffff) }
func infoKindFlag(info uint32) bool { return info>>31 == 1 }

// MakeInfo builds an info word.
func MakeInfo(kind Kind, vlen int, kindFlag bool) uint32 {
	info := uint32(kind)<<24 | uint32(vlen)&0xffff
	if kindFlag {
		info |= 1 << 31
	}
	return info
}

// trailerWords is the number of words that follow the three common words
// of a type of this kind with this vlen, or -1 for a kind this codec does
// not know.
func trailerWords(kind Kind, vlen int) int {
	switch kind {
	case KindPtr, KindFwd, KindTypedef, KindVolatile, KindConst, KindRestrict,
		KindFunc, KindFloat, KindTypeTag:
		return 0
	case KindInt, KindVar, KindDeclTag:
		return 1
	case KindArray:
		return 3
	case KindStruct, KindUnion, KindDatasec, KindEnum64:
		return 3 * vlen
	case KindEnum, KindFuncProto:
		return 2 * vlen
	}
	return -1
}
