package load_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/recon"
)

func TestDistilledID(t *testing.T) {
	// build: [1] int, [2] long, [3] struct foo; split [4] ptr foo, [5] FUNC kf.
	le := binary.LittleEndian
	bb := btf.NewBuilder(le, nil)
	bb.Int("int", 4, btf.IntSigned)
	bb.Int("long", 8, btf.IntSigned)
	bb.Struct("foo", 8)
	build, _ := bb.Spec()
	sb := btf.NewBuilder(le, build)
	sb.Ptr(3)
	proto := sb.FuncProto(1)
	sb.Func("kf", proto, 0)
	split, err := sb.Spec()
	if err != nil {
		t.Fatal(err)
	}
	d, s2, err := recon.Distill(build, split)
	if err != nil {
		t.Fatal(err)
	}
	// D holds int and foo ([1], [2]); the split's [4] [5] [6] become [3] [4] [5].
	for _, tc := range []struct {
		id, want btf.TypeID
	}{{4, 3}, {6, 5}} {
		got, err := load.DistilledID(build, split, d, s2, tc.id)
		if err != nil || got != tc.want {
			t.Errorf("DistilledID(%d) = %d, %v; want %d", tc.id, got, err, tc.want)
		}
	}
	for _, id := range []btf.TypeID{2, 7} {
		if _, err := load.DistilledID(build, split, d, s2, id); !errors.Is(err, btf.ErrTypeIDRange) {
			t.Errorf("DistilledID(%d): %v, want a range error", id, err)
		}
	}
}
