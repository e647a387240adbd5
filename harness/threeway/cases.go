package threeway

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// A hand case builds D and S directly (no distill), so that it can hold
// what no distiller makes, and a target.
type handCase struct {
	name     string
	bo       binary.ByteOrder
	dist     func(b *btf.Builder)
	split    func(b *btf.Builder)
	target   func(b *btf.Builder)
	errno    int
	noLibbpf bool
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

// handCases are the contract's corrections (a)-(e) and the refusals that
// only a hand-made D or S can reach.
var handCases = []handCase{
	{name: "a/embedded struct then FWD: ambiguous", dist: intFoo, split: holdsFoo,
		target: func(b *btf.Builder) {
			b.Int("int", 4, btf.IntSigned)
			b.Struct("foo", 8, m("x", 1, 0))
			b.Fwd("foo", false)
		},
		errno: einval},
	{name: "a/embedded FWD then struct: ok", dist: intFoo, split: holdsFoo,
		target: func(b *btf.Builder) {
			b.Int("int", 4, btf.IntSigned)
			b.Fwd("foo", false)
			b.Struct("foo", 8, m("x", 1, 0))
		}},
	{name: "a/embedded grew", dist: intFoo, split: holdsFoo,
		target: func(b *btf.Builder) { b.Int("int", 4, btf.IntSigned); b.Struct("foo", 16, m("x", 1, 0)) }, errno: einval},
	{name: "a/pointer only, grew", dist: intFoo, split: ptrToFoo,
		target: func(b *btf.Builder) { b.Int("int", 4, btf.IntSigned); b.Struct("foo", 16, m("x", 1, 0)) }},
	{name: "b/target name at an empty string matches void", dist: intFoo, split: ptrToFoo,
		target: func(b *btf.Builder) {
			b.Int("int", 4, btf.IntSigned)
			b.Struct("foo", 8)
			b.Add(b.AddString("bar")+3, btf.MakeInfo(btf.KindStruct, 0, false), 8)
		}, errno: einval},
	{name: "b/sized key of size 0 at an empty name", dist: intFoo, split: ptrToFoo,
		target: func(b *btf.Builder) {
			b.Int("int", 4, btf.IntSigned)
			b.Struct("foo", 8)
			b.Add(b.AddString("bar")+3, btf.MakeInfo(btf.KindInt, 0, false), 0, 0)
		}, errno: einval},
	{name: "b/sized key of size 4 at an empty name: no candidate", dist: intFoo, split: ptrToFoo,
		target: func(b *btf.Builder) {
			b.Int("int", 4, btf.IntSigned)
			b.Struct("foo", 8)
			b.Add(b.AddString("bar")+3, btf.MakeInfo(btf.KindInt, 0, false), 4, 32)
		}},
	{name: "c/31-bit key size", dist: intFoo, split: ptrToFoo,
		target: func(b *btf.Builder) {
			b.Add(b.AddString("int"), btf.MakeInfo(btf.KindInt, 0, false), 0x80000004, btf.IntSigned<<24|32)
			b.Struct("foo", 8)
		}},
	{name: "c/embedded size compares 32 bits", dist: intFoo, split: holdsFoo,
		target: func(b *btf.Builder) {
			b.Int("int", 4, btf.IntSigned)
			b.Struct("foo", 8|0x80000000)
			b.Struct("foo", 8)
		}},
	{name: "d/typedef cycle", dist: intFoo,
		split: func(b *btf.Builder) {
			b.Typedef("t", 4)                   // 3
			b.Typedef("u", 3)                   // 4
			b.Struct("holder", 8, m("f", 3, 0)) // 5
		},
		target: intFoo, errno: eloop, noLibbpf: true},
	{name: "e/int bits not compared", dist: intFoo, split: ptrToFoo,
		target: func(b *btf.Builder) {
			b.Add(b.AddString("int"), btf.MakeInfo(btf.KindInt, 0, false), 4, btf.IntSigned<<24|5<<16|7)
			b.Struct("foo", 8)
		}},
	{name: "e/int encoding compared", dist: intFoo, split: ptrToFoo,
		target: func(b *btf.Builder) { b.Int("int", 4, btf.IntBool); b.Struct("foo", 8) }, errno: einval},
	{name: "validate/anonymous distilled", dist: func(b *btf.Builder) { b.Int("", 4, 0) },
		split: func(b *btf.Builder) { b.Ptr(1) }, target: intFoo, errno: einval},
	{name: "validate/anonymous distilled that a target type would match", dist: func(b *btf.Builder) { b.Int("", 4, 0) },
		split:  func(b *btf.Builder) { b.Ptr(1) },
		target: func(b *btf.Builder) { b.Add(b.AddString("x")+1, btf.MakeInfo(btf.KindInt, 0, false), 4, 32) }, errno: einval},
	{name: "validate/ENUM64 distilled", dist: func(b *btf.Builder) { b.Enum64("e", 8, false) },
		split: func(b *btf.Builder) { b.Ptr(1) }, target: func(b *btf.Builder) { b.Enum64("e", 8, false) }, errno: einval},
	{name: "validate/ENUM64 distilled is refused before the member walk", dist: func(b *btf.Builder) { b.Enum64("e", 8, false) },
		split: func(b *btf.Builder) {
			b.Typedef("t", 3)                   // 2
			b.Typedef("u", 2)                   // 3
			b.Struct("holder", 8, m("f", 2, 0)) // 4
		},
		target: func(b *btf.Builder) { b.Enum64("e", 8, false) }, errno: einval, noLibbpf: true},
	{name: "validate/PTR distilled", dist: func(b *btf.Builder) { b.Int("int", 4, 0); b.Ref(btf.KindTypedef, "td", 1) },
		split: func(b *btf.Builder) { b.Ptr(1) }, target: intFoo, errno: einval},
	{name: "strings/split name inside a distilled name", dist: intFoo,
		split: func(b *btf.Builder) {
			b.Add(2, btf.MakeInfo(btf.KindStruct, 1, false), 8, b.AddString("f"), 2, 0) // name "nt"
		},
		target: intFoo, errno: enoent},
	{name: "strings/split member named like a distilled type", dist: intFoo,
		split: func(b *btf.Builder) {
			b.Add(b.AddString("h"), btf.MakeInfo(btf.KindStruct, 1, false), 8, 1, 2, 0) // member "int"
		},
		target: func(b *btf.Builder) { b.Struct("foo", 8); b.Int("pad", 1, 0); b.Int("int", 4, btf.IntSigned) }},
	{name: "fwd/D FWD kind_flag vs B struct kind_flag", dist: func(b *btf.Builder) { b.Fwd("foo", true) },
		split: func(b *btf.Builder) { b.Ptr(1) },
		target: func(b *btf.Builder) {
			b.Int("int", 4, 0)
			b.Composite(btf.KindUnion, "foo", 4, true, m("x", 1, 1<<24))
		}},
	{name: "two D types onto one B type", dist: func(b *btf.Builder) { b.Struct("foo", 8); b.Fwd("foo", false) },
		split: func(b *btf.Builder) { b.Ptr(1); b.Ptr(2) }, target: intFoo},
	{name: "big-endian", bo: binary.BigEndian, dist: intFoo, split: holdsFoo,
		target: func(b *btf.Builder) { b.Struct("foo", 8); b.Int("int", 4, btf.IntSigned) }},
}

// HandInputs returns the hand cases as inputs.
func HandInputs() ([]Input, error) {
	var ins []Input
	for _, c := range handCases {
		bo := c.bo
		if bo == nil {
			bo = binary.LittleEndian
		}
		db := btf.NewBuilder(bo, nil)
		c.dist(db)
		d, err := db.Spec()
		if err != nil {
			return nil, fmt.Errorf("%s: distilled: %w", c.name, err)
		}
		sb := btf.NewBuilder(bo, d)
		c.split(sb)
		tb := btf.NewBuilder(bo, nil)
		c.target(tb)
		t, err := NewTarget(c.name, tb.Bytes())
		if err != nil {
			return nil, err
		}
		ins = append(ins, Input{Name: "hand/" + c.name, D: db.Bytes(), S: sb.Bytes(), T: t,
			NoLibbpf: c.noLibbpf, WantErrno: c.errno})
	}
	return ins, nil
}
