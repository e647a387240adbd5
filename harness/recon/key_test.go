package recon

import (
	"encoding/binary"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// The match key of relocation (contract, Relocate step 4), kind by kind,
// worked out from the contract's words.
func TestTargetKey(t *testing.T) {
	b := btf.NewBuilder(binary.LittleEndian, nil)
	i := b.Int("int", 4, btf.IntSigned)                                            // 1
	b.Add(b.AddString("big"), btf.MakeInfo(btf.KindInt, 0, false), 0x80000004, 32) // 2: size past 31 bits
	b.Float("double", 8)                                                           // 3
	b.Enum("e", 4, false, ev("A", 1))                                              // 4
	b.Enum64("e64", 8, false, ev("B", 1<<40))                                      // 5
	b.Fwd("foo", false)                                                            // 6
	b.Struct("foo", 8, m("a", i, 0))                                               // 7
	b.Union("u", 12, m("a", i, 0))                                                 // 8
	b.Typedef("int", i)                                                            // 9
	b.Struct("", 4, m("a", i, 0))                                                  // 10
	ptr := b.Ptr(i)                                                                // 11
	proto := b.FuncProto(i)                                                        // 12
	b.Func("f", proto, 1)                                                          // 13
	b.Var("v", i, 1)                                                               // 14
	b.Datasec(".data", 4, btf.SecInfo{Type: 14, Size: 4})                          // 15
	b.DeclTag("tag", i, -1)                                                        // 16
	b.Add(b.AddString("x")+1, btf.MakeInfo(btf.KindStruct, 0, false), 16)          // 17: non-zero offset naming ""
	b.Ref(btf.KindTypeTag, "tt", ptr)                                              // 18
	target, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	none := Key{}
	for _, tc := range []struct {
		id         btf.TypeID
		composites int
		want       Key
		ok         bool
	}{
		{1, 0, Key{"int", 4, true}, true},
		{2, 0, Key{"big", 4, true}, true}, // 31-bit size
		{3, 0, Key{"double", 8, true}, true},
		{4, 0, Key{"e", 4, true}, true},
		{5, 0, Key{"e64", 8, true}, true},
		{6, 1, Key{"foo", 0, false}, true}, // FWD: name only, whatever the count
		{6, 2, Key{"foo", 0, false}, true}, // (FWD and STRUCT share "foo"; a FWD is no composite)
		{7, 1, Key{"foo", 0, false}, true}, // a unique STRUCT name: name only
		{7, 2, Key{"foo", 8, true}, true},  // a shared one: name and size
		{8, 3, Key{"u", 12, true}, true},   // UNIONs count with STRUCTs
		{17, 1, Key{"", 0, false}, true},   // named by offset: keyed, and its name is ""
		{9, 0, none, false},                // TYPEDEF
		{10, 1, none, false},               // anonymous STRUCT
		{11, 0, none, false},               // PTR
		{12, 0, none, false},               // FUNC_PROTO
		{13, 0, none, false},               // FUNC
		{14, 0, none, false},               // VAR
		{15, 0, none, false},               // DATASEC
		{16, 0, none, false},               // DECL_TAG
		{18, 0, none, false},               // TYPE_TAG
	} {
		bt, err := target.Type(tc.id)
		if err != nil {
			t.Fatal(err)
		}
		k, ok := TargetKey(target, bt, tc.composites)
		if k != tc.want || ok != tc.ok {
			t.Errorf("[%d] %s, %d composites: key %+v ok %v, want %+v ok %v", tc.id, bt.Kind(), tc.composites, k, ok, tc.want, tc.ok)
		}
	}
}

func TestKeyAdmits(t *testing.T) {
	for _, tc := range []struct {
		k    Key
		name string
		size uint32
		want bool
	}{
		{Key{"int", 4, true}, "int", 4, true},
		{Key{"int", 4, true}, "int", 8, false},
		{Key{"int", 4, true}, "int", 0x80000004, true}, // sizes compare as 31-bit values
		{Key{"int", 4, true}, "long", 4, false},
		{Key{"foo", 0, false}, "foo", 576, true}, // no size in the key: any size
		{Key{"foo", 0, false}, "foo", 0, true},
		{Key{"foo", 0, false}, "fo", 0, false},
		{Key{"", 0, false}, "", 0, true}, // what matches the distilled base's void
	} {
		if got := tc.k.Admits(tc.name, tc.size); got != tc.want {
			t.Errorf("%+v admits %q size %d: %v, want %v", tc.k, tc.name, tc.size, got, tc.want)
		}
	}
}
