package btf

import (
	"encoding/binary"
	"testing"
)

// allKinds builds a standalone BTF holding every kind this codec knows,
// with bitfields, signed enums, kind flags and a few name collisions.
func allKinds(bo binary.ByteOrder) *Builder {
	b := NewBuilder(bo, nil)
	i := b.Int("int", 4, IntSigned)                                  // 1
	c := b.Int("char", 1, IntChar)                                   // 2
	p := b.Ptr(0)                                                    // 3: void *
	arr := b.Array(c, i, 16)                                         // 4
	fwd := b.Fwd("foo", false)                                       // 5
	s := b.Composite(KindStruct, "foo", 24, true, Member{"a", i, 0}, // 6
		Member{"bits", i, 3<<24 | 32}, Member{"name", arr, 64})
	b.Union("", 8, Member{"x", i, 0}, Member{"p", p, 0})                  // 7
	b.Enum("e", 4, true, Enumerator{"A", 0}, Enumerator{"B", 0xffffffff}) // 8
	b.Enum64("e64", 8, false, Enumerator{"C", 1 << 40})                   // 9
	td := b.Typedef("foo_t", s)                                           // 10
	b.Ref(KindVolatile, "", td)                                           // 11
	cs := b.Ref(KindConst, "", td)                                        // 12
	b.Ref(KindRestrict, "", b.Ptr(cs))                                    // 13, 14
	fp := b.FuncProto(i, Param{"x", i}, Param{"", 0})                     // 15
	fn := b.Func("f", fp, 1)                                              // 16
	v := b.Var("v", i, 1)                                                 // 17
	b.Datasec(".data", 4, SecInfo{v, 0, 4})                               // 18
	b.Float("double", 8)                                                  // 19
	b.DeclTag("tag", fn, -1)                                              // 20
	b.Ref(KindTypeTag, "user", fwd)                                       // 21
	return b
}

func mustParse(t testing.TB, data []byte) *Spec {
	t.Helper()
	s, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
