package cases

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// Hand is a relocation case built whole by hand: the distilled base D, the
// split S on it and the target, so that it can hold what no distiller
// makes. Errno is what the contract says relocation returns (0: it
// relocates); NoLibbpf marks a case libbpf never returns from.
type Hand struct {
	Name     string
	Order    binary.ByteOrder // nil: little-endian
	Dist     func(b *btf.Builder)
	Split    func(b *btf.Builder)
	Target   func(b *btf.Builder)
	Errno    int
	NoLibbpf bool
}

func m(name string, id btf.TypeID, off uint32) btf.Member {
	return btf.Member{Name: name, Type: id, Offset: off}
}

// intFoo is D = [1] int, [2] STRUCT foo size 8.
func intFoo(b *btf.Builder) {
	b.Int("int", 4, btf.IntSigned)
	b.Struct("foo", 8)
}

// holdsFoo is a split struct embedding D's [2] foo.
func holdsFoo(b *btf.Builder) { b.Struct("holder", 8, m("f", 2, 0)) }

// ptrToFoo is a split pointer to D's [2].
func ptrToFoo(b *btf.Builder) { b.Ptr(2) }

var einval, enoent, eloop = -int(syscall.EINVAL), -int(syscall.ENOENT), -int(syscall.ELOOP)

// HandCases are the contract's corrections (a)-(e) and the refusals that
// only a hand-made D or S can reach.
func HandCases() []Hand {
	return []Hand{
		{Name: "a/embedded struct then FWD: ambiguous", Dist: intFoo, Split: holdsFoo,
			Target: func(b *btf.Builder) {
				b.Int("int", 4, btf.IntSigned)
				b.Struct("foo", 8, m("x", 1, 0))
				b.Fwd("foo", false)
			},
			Errno: einval},
		{Name: "a/embedded FWD then struct: ok", Dist: intFoo, Split: holdsFoo,
			Target: func(b *btf.Builder) {
				b.Int("int", 4, btf.IntSigned)
				b.Fwd("foo", false)
				b.Struct("foo", 8, m("x", 1, 0))
			}},
		{Name: "a/embedded grew", Dist: intFoo, Split: holdsFoo,
			Target: func(b *btf.Builder) { b.Int("int", 4, btf.IntSigned); b.Struct("foo", 16, m("x", 1, 0)) }, Errno: einval},
		{Name: "a/pointer only, grew", Dist: intFoo, Split: ptrToFoo,
			Target: func(b *btf.Builder) { b.Int("int", 4, btf.IntSigned); b.Struct("foo", 16, m("x", 1, 0)) }},
		{Name: "b/target name at an empty string matches void", Dist: intFoo, Split: ptrToFoo,
			Target: func(b *btf.Builder) {
				b.Int("int", 4, btf.IntSigned)
				b.Struct("foo", 8)
				b.Add(b.AddString("bar")+3, btf.MakeInfo(btf.KindStruct, 0, false), 8)
			}, Errno: einval},
		{Name: "b/sized key of size 0 at an empty name", Dist: intFoo, Split: ptrToFoo,
			Target: func(b *btf.Builder) {
				b.Int("int", 4, btf.IntSigned)
				b.Struct("foo", 8)
				b.Add(b.AddString("bar")+3, btf.MakeInfo(btf.KindInt, 0, false), 0, 0)
			}, Errno: einval},
		{Name: "b/sized key of size 4 at an empty name: no candidate", Dist: intFoo, Split: ptrToFoo,
			Target: func(b *btf.Builder) {
				b.Int("int", 4, btf.IntSigned)
				b.Struct("foo", 8)
				b.Add(b.AddString("bar")+3, btf.MakeInfo(btf.KindInt, 0, false), 4, 32)
			}},
		{Name: "c/31-bit key size", Dist: intFoo, Split: ptrToFoo,
			Target: func(b *btf.Builder) {
				b.Add(b.AddString("int"), btf.MakeInfo(btf.KindInt, 0, false), 0x80000004, btf.IntSigned<<24|32)
				b.Struct("foo", 8)
			}},
		{Name: "c/embedded size compares 32 bits", Dist: intFoo, Split: holdsFoo,
			Target: func(b *btf.Builder) {
				b.Int("int", 4, btf.IntSigned)
				b.Struct("foo", 8|0x80000000)
				b.Struct("foo", 8)
			}},
		{Name: "d/typedef cycle", Dist: intFoo,
			Split: func(b *btf.Builder) {
				b.Typedef("t", 4)                   // 3
				b.Typedef("u", 3)                   // 4
				b.Struct("holder", 8, m("f", 3, 0)) // 5
			},
			Target: intFoo, Errno: eloop, NoLibbpf: true},
		{Name: "e/int bits not compared", Dist: intFoo, Split: ptrToFoo,
			Target: func(b *btf.Builder) {
				b.Add(b.AddString("int"), btf.MakeInfo(btf.KindInt, 0, false), 4, btf.IntSigned<<24|5<<16|7)
				b.Struct("foo", 8)
			}},
		{Name: "e/int encoding compared", Dist: intFoo, Split: ptrToFoo,
			Target: func(b *btf.Builder) { b.Int("int", 4, btf.IntBool); b.Struct("foo", 8) }, Errno: einval},
		{Name: "validate/anonymous distilled", Dist: func(b *btf.Builder) { b.Int("", 4, 0) },
			Split: func(b *btf.Builder) { b.Ptr(1) }, Target: intFoo, Errno: einval},
		{Name: "validate/anonymous distilled that a target type would match", Dist: func(b *btf.Builder) { b.Int("", 4, 0) },
			Split:  func(b *btf.Builder) { b.Ptr(1) },
			Target: func(b *btf.Builder) { b.Add(b.AddString("x")+1, btf.MakeInfo(btf.KindInt, 0, false), 4, 32) }, Errno: einval},
		{Name: "validate/ENUM64 distilled", Dist: func(b *btf.Builder) { b.Enum64("e", 8, false) },
			Split: func(b *btf.Builder) { b.Ptr(1) }, Target: func(b *btf.Builder) { b.Enum64("e", 8, false) }, Errno: einval},
		{Name: "validate/ENUM64 distilled is refused before the member walk", Dist: func(b *btf.Builder) { b.Enum64("e", 8, false) },
			Split: func(b *btf.Builder) {
				b.Typedef("t", 3)                   // 2
				b.Typedef("u", 2)                   // 3
				b.Struct("holder", 8, m("f", 2, 0)) // 4
			},
			Target: func(b *btf.Builder) { b.Enum64("e", 8, false) }, Errno: einval, NoLibbpf: true},
		{Name: "validate/PTR distilled", Dist: func(b *btf.Builder) { b.Int("int", 4, 0); b.Ref(btf.KindTypedef, "td", 1) },
			Split: func(b *btf.Builder) { b.Ptr(1) }, Target: intFoo, Errno: einval},
		{Name: "strings/split name inside a distilled name", Dist: intFoo,
			Split: func(b *btf.Builder) {
				b.Add(2, btf.MakeInfo(btf.KindStruct, 1, false), 8, b.AddString("f"), 2, 0) // name "nt"
			},
			Target: intFoo, Errno: enoent},
		{Name: "strings/split member named like a distilled type", Dist: intFoo,
			Split: func(b *btf.Builder) {
				b.Add(b.AddString("h"), btf.MakeInfo(btf.KindStruct, 1, false), 8, 1, 2, 0) // member "int"
			},
			Target: func(b *btf.Builder) { b.Struct("foo", 8); b.Int("pad", 1, 0); b.Int("int", 4, btf.IntSigned) }},
		{Name: "fwd/D FWD kind_flag vs B struct kind_flag", Dist: func(b *btf.Builder) { b.Fwd("foo", true) },
			Split: func(b *btf.Builder) { b.Ptr(1) },
			Target: func(b *btf.Builder) {
				b.Int("int", 4, 0)
				b.Composite(btf.KindUnion, "foo", 4, true, m("x", 1, 1<<24))
			}},
		{Name: "two D types onto one B type", Dist: func(b *btf.Builder) { b.Struct("foo", 8); b.Fwd("foo", false) },
			Split: func(b *btf.Builder) { b.Ptr(1); b.Ptr(2) }, Target: intFoo},
		{Name: "big-endian", Order: binary.BigEndian, Dist: intFoo, Split: holdsFoo,
			Target: func(b *btf.Builder) { b.Struct("foo", 8); b.Int("int", 4, btf.IntSigned) }},
	}
}

// Build makes the case's raw D, S and target.
func (h Hand) Build() (d, s, target []byte, err error) {
	bo := h.Order
	if bo == nil {
		bo = binary.LittleEndian
	}
	db := btf.NewBuilder(bo, nil)
	h.Dist(db)
	ds, err := db.Spec()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: distilled: %w", h.Name, err)
	}
	sb := btf.NewBuilder(bo, ds)
	h.Split(sb)
	tb := btf.NewBuilder(bo, nil)
	h.Target(tb)
	return db.Bytes(), sb.Bytes(), tb.Bytes(), nil
}
