package load_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// A running kernel's vmlinux: [1] int, [2] struct foo size 8 { int x; }.
func vmlinux(t *testing.T) *btf.Spec {
	t.Helper()
	b := btf.NewBuilder(binary.LittleEndian, nil)
	b.Int("int", 4, btf.IntSigned)
	b.Struct("foo", 8, btf.Member{Name: "x", Type: 1})
	s, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// module builds a distilled base D = [1] struct foo size fooSize and a
// split embedding it; it returns .BTF and .BTF.base.
func module(t *testing.T, fooSize uint32) (split, base []byte) {
	t.Helper()
	db := btf.NewBuilder(binary.LittleEndian, nil)
	db.Struct("foo", fooSize)
	d, err := db.Spec()
	if err != nil {
		t.Fatal(err)
	}
	sb := btf.NewBuilder(binary.LittleEndian, d)
	sb.Struct("holder", fooSize, btf.Member{Name: "f", Type: 1})
	return sb.Bytes(), db.Bytes()
}

func TestPredict(t *testing.T) {
	target := vmlinux(t)
	good, goodBase := module(t, 8)
	grown, grownBase := module(t, 16)
	swapped, err := btf.SwapByteOrder(goodBase)
	if err != nil {
		t.Fatal(err)
	}
	// A split made directly on the target: [3] struct holder { foo f; }.
	onTarget := btf.NewBuilder(binary.LittleEndian, target)
	onTarget.Struct("holder", 8, btf.Member{Name: "f", Type: 2})
	// The same split made on a base with one type fewer: its id 2 is the
	// target's foo, its own type [2] is the target's foo slot: no error,
	// the kernel would load wrong BTF, as a module without .BTF.base does.
	stale := btf.NewBuilder(binary.LittleEndian, target)
	stale.Struct("holder", 8, btf.Member{Name: "f", Type: 9})

	tests := []struct {
		name        string
		split, base []byte
		allow       bool
		want        load.Outcome
		reason      error
	}{
		{"relocates", good, goodBase, false, load.KeepsBTF, nil},
		{"embedded size differs, mismatch allowed", grown, grownBase, true, load.NoBTF, recon.ErrEmbeddedSize},
		{"embedded size differs, mismatch not allowed", grown, grownBase, false, load.LoadRefused, recon.ErrEmbeddedSize},
		{"base in the other byte order", good, swapped, true, load.NoBTF, load.ErrByteOrder},
		{"base truncated", good, goodBase[:len(goodBase)-3], false, load.LoadRefused, btf.ErrTruncated},
		{"no .BTF.base, made on this vmlinux", onTarget.Bytes(), nil, false, load.KeepsBTF, nil},
		{"no .BTF.base, an id past the end", stale.Bytes(), nil, true, load.NoBTF, btf.ErrTypeIDRange},
	}
	k := load.Kernel{Vmlinux: target, Order: binary.LittleEndian}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k.AllowMismatch = tc.allow
			p := load.Predict(k, tc.split, tc.base)
			if p.Outcome != tc.want {
				t.Fatalf("outcome %s (%v), want %s", p.Outcome, p.Reason, tc.want)
			}
			if tc.reason == nil {
				if p.Reason != nil || p.Model == nil {
					t.Fatalf("kept with reason %v, model %v", p.Reason, p.Model != nil)
				}
				return
			}
			if !errors.Is(p.Reason, tc.reason) {
				t.Fatalf("reason %v, want %v", p.Reason, tc.reason)
			}
			if p.Why() == "" || p.Model != nil {
				t.Fatalf("refusal without a reason line or with a model: %q", p.Why())
			}
		})
	}
}

func TestPredictRelocatedBytes(t *testing.T) {
	// The relocation of module(8) onto vmlinux, worked out by hand: the
	// split's [2] holder becomes [3], its member foo [1] becomes [2], and
	// its strings move from past the distilled base's ("\0foo\0", 5 bytes:
	// "holder" at 5, "f" at 12) to past the target's ("\0int\0foo\0x\0",
	// 11 bytes: 11 and 18).
	split, base := module(t, 8)
	p := load.Predict(load.Kernel{Vmlinux: vmlinux(t), Order: binary.LittleEndian}, split, base)
	if p.Outcome != load.KeepsBTF {
		t.Fatalf("%s: %v", p.Outcome, p.Reason)
	}
	ty := p.Model.Local(0)
	want := []uint32{11, btf.MakeInfo(btf.KindStruct, 1, false), 8, 18, 2, 0}
	for i, w := range want {
		if ty.W[i] != w {
			t.Fatalf("relocated words %v, want %v", ty.W, want)
		}
	}
	if p.ND != 2 || len(p.IDMap) < 2 || p.IDMap[1] != 2 {
		t.Fatalf("ND %d, id map %v", p.ND, p.IDMap)
	}
}

func TestOrder(t *testing.T) {
	for _, tc := range []struct {
		raw  []byte
		want binary.ByteOrder
	}{
		{[]byte{0x9f, 0xeb}, binary.LittleEndian},
		{[]byte{0xeb, 0x9f}, binary.BigEndian},
		{[]byte{0}, binary.LittleEndian},
	} {
		if got := load.Order(tc.raw); got != tc.want {
			t.Errorf("Order(%x) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}
