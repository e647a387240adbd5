package load_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/load"
)

func TestRefuseDtorIDPastIDMap(t *testing.T) {
	// D: [1] int. Split on D: [2] struct ctx, [3] PTR -> [2],
	// [4] FUNC_PROTO void(ptr), [5] FUNC ctx_release. The id map holds one
	// entry per id of D and the split, 0..5: 6 entries.
	le := binary.LittleEndian
	db := btf.NewBuilder(le, nil)
	db.Int("int", 4, btf.IntSigned)
	d, err := db.Spec()
	if err != nil {
		t.Fatal(err)
	}
	sb := btf.NewBuilder(le, d)
	ctx := sb.Struct("ctx", 4)
	sb.Func("ctx_release", sb.FuncProto(0, btf.Param{Type: sb.Ptr(ctx)}), 1)
	s, err := sb.Spec()
	if err != nil {
		t.Fatal(err)
	}
	tb := btf.NewBuilder(le, nil)
	tb.Int("int", 4, btf.IntSigned)
	target, err := tb.Spec()
	if err != nil {
		t.Fatal(err)
	}
	k := load.Kernel{Vmlinux: target, Order: le}
	for _, tc := range []struct {
		name   string
		base   []byte // .BTF.base (nil: none, no relocation)
		allow  bool
		dtors  []load.Dtor
		want   load.Outcome
		refuse bool
	}{
		{"both in the map", d.Marshal(), false, []load.Dtor{{Type: 2, Kfunc: 5}}, load.KeepsBTF, false},
		{"kfunc one past the map", d.Marshal(), false, []load.Dtor{{Type: 2, Kfunc: 6}}, load.LoadRefused, true},
		{"type far past the map", d.Marshal(), false, []load.Dtor{{Type: 0x7fffffff, Kfunc: 5}}, load.LoadRefused, true},
		{"the second entry", d.Marshal(), false, []load.Dtor{{Type: 2, Kfunc: 5}, {Type: 6, Kfunc: 5}}, load.LoadRefused, true},
		{"a failed init fails the load even with mismatch allowed", d.Marshal(), true, []load.Dtor{{Type: 2, Kfunc: 7}}, load.LoadRefused, true},
		{"the last id of the map", d.Marshal(), false, []load.Dtor{{Type: 5, Kfunc: 5}}, load.KeepsBTF, false},
		{"no table", d.Marshal(), false, nil, load.KeepsBTF, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k.AllowMismatch = tc.allow
			p := load.Predict(k, s.Marshal(), tc.base)
			if p.Outcome != load.KeepsBTF || len(p.IDMap) != 6 {
				t.Fatalf("relocation: %s %v, id map %v; want BTF kept, 6 entries", p.Outcome, p.Reason, p.IDMap)
			}
			got := load.RefuseDtorIDPastIDMap(p, tc.dtors)
			if got.Outcome != tc.want {
				t.Fatalf("outcome %s (%v), want %s", got.Outcome, got.Reason, tc.want)
			}
			if refused := errors.Is(got.Reason, load.ErrDtorIDRange); refused != tc.refuse || refused && !errors.Is(got.Reason, btf.ErrTypeIDRange) {
				t.Fatalf("reason %v, want the range sentinels: %v", got.Reason, tc.refuse)
			}
		})
	}
	// Without .BTF.base nothing is relocated: the rule does not apply.
	own := btf.NewBuilder(le, target)
	own.Struct("ctx", 4)
	if got := load.RefuseDtorIDPastIDMap(load.Predict(k, own.Bytes(), nil), []load.Dtor{{Type: 0x7fffffff, Kfunc: 0x7fffffff}}); got.Outcome != load.KeepsBTF {
		t.Fatalf("no .BTF.base: %s %v, want BTF kept", got.Outcome, got.Reason)
	}
	// A BTF already refused stays refused for its own reason.
	bad := load.Predict(k, s.Marshal(), []byte{1, 2})
	if got := load.RefuseDtorIDPastIDMap(bad, []load.Dtor{{Kfunc: 0x7fffffff}}); errors.Is(got.Reason, load.ErrDtorIDRange) || got.Outcome != bad.Outcome {
		t.Fatalf("refused BTF: %s %v", got.Outcome, got.Reason)
	}
}
