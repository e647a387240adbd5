package load_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/load"
)

func TestRefuseKfuncIDPastIDMap(t *testing.T) {
	// D: [1] int. Split on D: [2] FUNC_PROTO int(void), [3] FUNC kf.
	// Target: [1] int, [2] struct pad. The id map has one entry per id of
	// D and the split, 0..3: 4 entries; kf relocates to [4].
	le := binary.LittleEndian
	db := btf.NewBuilder(le, nil)
	db.Int("int", 4, btf.IntSigned)
	d, err := db.Spec()
	if err != nil {
		t.Fatal(err)
	}
	sb := btf.NewBuilder(le, d)
	sb.Func("kf", sb.FuncProto(1), 1)
	s, err := sb.Spec()
	if err != nil {
		t.Fatal(err)
	}
	tb := btf.NewBuilder(le, nil)
	tb.Int("int", 4, btf.IntSigned)
	tb.Struct("pad", 4)
	target, err := tb.Spec()
	if err != nil {
		t.Fatal(err)
	}
	own := btf.NewBuilder(le, target) // the module's .BTF on target, no .BTF.base
	own.Func("kf", own.FuncProto(1), 1)
	for _, tc := range []struct {
		name   string
		base   bool // with .BTF.base (relocated)
		allow  bool // MODULE_ALLOW_BTF_MISMATCH
		ids    []btf.TypeID
		want   load.Outcome
		refuse bool
	}{
		{"in the map", true, false, []btf.TypeID{3}, load.KeepsBTF, false},
		{"one past the map", true, false, []btf.TypeID{3, 4}, load.LoadRefused, true},
		{"far past the map", true, false, []btf.TypeID{0x7fffffff}, load.LoadRefused, true},
		{"a failed init fails the load even with mismatch allowed", true, true, []btf.TypeID{4}, load.LoadRefused, true},
		{"no kfuncs", true, false, nil, load.KeepsBTF, false},
		{"no .BTF.base: no id map, not this rule", false, false, []btf.TypeID{0x7fffffff}, load.KeepsBTF, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := load.Kernel{Vmlinux: target, Order: le, AllowMismatch: tc.allow}
			p := load.Predict(k, own.Bytes(), nil)
			if tc.base {
				p = load.Predict(k, s.Marshal(), d.Marshal())
				if len(p.IDMap) != 4 || p.IDMap[3] != 4 {
					t.Fatalf("id map %v, want 4 entries, [3] -> [4]", p.IDMap)
				}
			}
			var kf []load.Kfunc
			for _, id := range tc.ids {
				kf = append(kf, load.Kfunc{Set: "kset", ID: id})
			}
			got := load.RefuseKfuncIDPastIDMap(p, kf)
			if got.Outcome != tc.want {
				t.Fatalf("outcome %s (%v), want %s", got.Outcome, got.Reason, tc.want)
			}
			if refused := errors.Is(got.Reason, load.ErrKfuncIDRange); refused != tc.refuse || refused && !errors.Is(got.Reason, btf.ErrTypeIDRange) {
				t.Fatalf("reason %v, want the range sentinels: %v", got.Reason, tc.refuse)
			}
		})
	}
	// A BTF already refused stays refused for its own reason.
	k := load.Kernel{Vmlinux: target, Order: le}
	bad := load.Predict(k, s.Marshal(), []byte{1, 2})
	if got := load.RefuseKfuncIDPastIDMap(bad, []load.Kfunc{{ID: 0x7fffffff}}); errors.Is(got.Reason, load.ErrKfuncIDRange) || got.Outcome != bad.Outcome {
		t.Fatalf("refused BTF: %s %v", got.Outcome, got.Reason)
	}
}
