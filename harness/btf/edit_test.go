package btf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
)

func editBase(t *testing.T, bo binary.ByteOrder) (*btf.Spec, []byte) {
	t.Helper()
	b := btf.NewBuilder(bo, nil)
	b.Int("int", 4, btf.IntSigned)
	b.Struct("foo", 8, btf.Member{Name: "x", Type: 1})
	raw := b.Bytes()
	s, err := btf.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return s, raw
}

func TestWithWord(t *testing.T) {
	s, raw := editBase(t, binary.LittleEndian)
	got := s.WithWord(1, 2, 16).Marshal()
	want := bytes.Clone(raw)
	// [2] foo's size word: header, [1] int (4 words), then name, info, size.
	binary.LittleEndian.PutUint32(want[btf.HeaderLen+4*4+2*4:], 16)
	if !bytes.Equal(got, want) {
		t.Fatalf("WithWord:\n got %x\nwant %x", got, want)
	}
	if !bytes.Equal(s.Marshal(), raw) {
		t.Fatal("WithWord changed its input")
	}
}

func TestRenamed(t *testing.T) {
	s, raw := editBase(t, binary.LittleEndian)
	r, err := s.Renamed(1, "bar")
	if err != nil {
		t.Fatal(err)
	}
	got := r.Marshal()
	want := bytes.Replace(raw, []byte("foo\x00"), []byte("bar\x00"), 1)
	if !bytes.Equal(got, want) {
		t.Fatalf("Renamed:\n got %x\nwant %x", got, want)
	}
	if !bytes.Equal(s.Marshal(), raw) {
		t.Fatal("Renamed changed its input")
	}
	for _, name := range []string{"fo", "fooo"} {
		if _, err := s.Renamed(1, name); !errors.Is(err, btf.ErrBadKindForOp) {
			t.Errorf("rename to %q: %v, want a length refusal", name, err)
		}
	}
}

func TestSwapByteOrder(t *testing.T) {
	le, rawLE := editBase(t, binary.LittleEndian)
	_, rawBE := editBase(t, binary.BigEndian)
	got, err := btf.SwapByteOrder(rawLE)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, rawBE) {
		t.Fatalf("swapped little-endian blob is not the big-endian one:\n got %x\nwant %x", got, rawBE)
	}
	back, err := btf.SwapByteOrder(got)
	if err != nil || !bytes.Equal(back, le.Marshal()) {
		t.Fatalf("swap twice: %v, %x", err, back)
	}
	if _, err := btf.SwapByteOrder(rawLE[:10]); !errors.Is(err, btf.ErrTruncated) {
		t.Fatalf("truncated: %v", err)
	}
}

func TestAppendTypes(t *testing.T) {
	s, raw := editBase(t, binary.LittleEndian)
	name := s.Local(0).NameOff()
	out, err := btf.AppendTypes(raw, name, btf.MakeInfo(btf.KindTypedef, 0, false), 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := btf.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.NumLocal() != 3 || got.Local(2).Kind() != btf.KindTypedef || got.Local(2).SizeType() != 1 || got.Name(got.Local(2)) != "int" {
		t.Fatalf("appended: %d types, last %v", got.NumLocal(), got.Local(got.NumLocal()-1))
	}
	if !bytes.Equal(got.Strings(), s.Strings()) {
		t.Fatal("strings moved")
	}
}
