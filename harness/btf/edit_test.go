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

func TestSwapByteOrderLayout(t *testing.T) {
	// The same BTF with a kind-layout section, built in both orders by the
	// layout helper of the codec's tests: swapping one gives the other.
	le, be := layoutBlob(binary.LittleEndian), layoutBlob(binary.BigEndian)
	got, err := btf.SwapByteOrder(le)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, be) {
		t.Fatalf("swapped:\n got %x\nwant %x", got, be)
	}
}

// layoutBlob is editBase's BTF with a 32-byte header and a two-entry
// kind-layout section ({4, 0, flags 0x0102}, {0, 12, flags 0}) between the
// types and the strings.
func layoutBlob(bo binary.ByteOrder) []byte {
	b := btf.NewBuilder(bo, nil)
	b.Int("int", 4, btf.IntSigned)
	b.Struct("foo", 8, btf.Member{Name: "x", Type: 1})
	raw := b.Bytes()
	typeLen, strLen := bo.Uint32(raw[12:]), bo.Uint32(raw[20:])
	lay := []byte{4, 0, 0, 0, 0, 12, 0, 0}
	bo.PutUint16(lay[2:], 0x0102)
	out := append(append([]byte{}, raw[:btf.HeaderLen]...), make([]byte, 8)...)
	out = append(out, raw[btf.HeaderLen:btf.HeaderLen+int(typeLen)]...)
	out = append(out, lay...)
	out = append(out, raw[btf.HeaderLen+int(typeLen):]...)
	bo.PutUint32(out[4:], btf.LayoutHeaderLen)
	bo.PutUint32(out[16:], typeLen+8)
	bo.PutUint32(out[20:], strLen)
	bo.PutUint32(out[24:], typeLen)
	bo.PutUint32(out[28:], 8)
	return out
}
