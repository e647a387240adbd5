package btf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"
)

func otherOrder() binary.ByteOrder {
	if hostOrder == binary.LittleEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func aliases(a []uint32, b []byte) bool {
	return len(a) > 0 && len(b) > 0 && unsafe.Pointer(&a[0]) == unsafe.Pointer(&b[0])
}

// TestDecodeAliases: a host-order blob is decoded without copying its
// types; Encoded hands the blob back; a Copy owns its words, so rewriting
// it leaves the blob alone; the other byte order and a misaligned type
// section are copied and encode to the same bytes.
func TestDecodeAliases(t *testing.T) {
	raw := allKinds(hostOrder).Bytes()
	s := mustParse(t, raw)
	if !aliases(s.words, raw[HeaderLen:]) {
		t.Fatal("host-order types were copied")
	}
	if enc := s.Encoded(); unsafe.SliceData(enc) != unsafe.SliceData(raw) || len(enc) != len(raw) {
		t.Fatal("Encoded of an unchanged decoded Spec is not its blob")
	}
	if m := s.Marshal(); !bytes.Equal(m, raw) || unsafe.SliceData(m) == unsafe.SliceData(raw) {
		t.Fatal("Marshal must be a new, equal buffer")
	}

	keep := bytes.Clone(raw)
	c := s.Copy()
	if aliases(c.words, raw[HeaderLen:]) {
		t.Fatal("Copy shares the blob's words")
	}
	c.Local(0).W[2] = 8 // int size 4 -> 8
	if !bytes.Equal(raw, keep) {
		t.Fatal("rewriting a Copy changed the blob")
	}
	enc := c.Encoded()
	if unsafe.SliceData(enc) == unsafe.SliceData(raw) || !bytes.Equal(enc, c.Marshal()) || bytes.Equal(enc, raw) {
		t.Fatal("Encoded of a rewritten Copy must be its own encoding")
	}
	r, err := s.Renamed(0, "INT")
	if err != nil {
		t.Fatal(err)
	}
	if enc := r.Encoded(); !bytes.Equal(enc, r.Marshal()) || bytes.Equal(enc, raw) {
		t.Fatal("Encoded of a renamed Spec must carry the new name")
	}

	other := allKinds(otherOrder()).Bytes()
	o := mustParse(t, other)
	if aliases(o.words, other[HeaderLen:]) {
		t.Fatal("other-order types were not converted")
	}
	if enc := o.Encoded(); !bytes.Equal(enc, other) || unsafe.SliceData(enc) == unsafe.SliceData(other) {
		t.Fatal("Encoded of an other-order Spec must be a new, equal buffer")
	}

	buf := make([]byte, len(raw)+1)
	odd := buf[1:]
	copy(odd, raw)
	m := mustParse(t, odd)
	if aliases(m.words, odd[HeaderLen:]) {
		t.Fatal("a misaligned type section was aliased")
	}
	if !bytes.Equal(m.Encoded(), raw) || m.NumIDs() != s.NumIDs() {
		t.Fatal("a misaligned blob decodes differently")
	}
}

// TestRebase: Rebase of a rewritten Copy, on a base or standalone, is what
// parsing the Copy's encoding gives (types, WriteTo's bytes, the error
// for an id past the end), sharing the Copy's words in host order.
func TestRebase(t *testing.T) {
	for _, bo := range []binary.ByteOrder{hostOrder, otherOrder()} {
		base := mustParse(t, allKinds(bo).Bytes())
		sb := NewBuilder(bo, base)
		sb.Ptr(1)
		sb.Struct("bar", 8, Member{Name: "a", Type: 1})
		split, err := ParseSplit(sb.Bytes(), base)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			s    *Spec
			on   *Spec
			ptr  int // a PTR's index
		}{{"split", split, base, 0}, {"standalone", base, nil, 2}} {
			c := tc.s.Copy()
			c.Local(tc.ptr).W[2] = 2 // to char
			want, werr := parse(c.Marshal(), tc.on)
			got, gerr := c.Rebase(tc.on)
			if werr != nil || gerr != nil {
				t.Fatalf("%s %s: Rebase: %v; parse of the encoding: %v", bo, tc.name, gerr, werr)
			}
			var b bytes.Buffer
			got.WriteTo(&b)
			if !bytes.Equal(b.Bytes(), want.Marshal()) || got.NumIDs() != want.NumIDs() || got.Header() != want.Header() {
				t.Fatalf("%s %s: Rebase writes %x, want %x", bo, tc.name, b.Bytes(), want.Marshal())
			}
			if bo == hostOrder && &got.words[0] != &c.words[0] {
				t.Fatalf("%s %s: Rebase copied the words", bo, tc.name)
			}
			c.Local(tc.ptr).W[2] = 1 << 20
			_, werr = parse(c.Marshal(), tc.on)
			_, gerr = c.Rebase(tc.on)
			if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
				t.Fatalf("%s %s: an id past the end: Rebase %v, want parse's %v", bo, tc.name, gerr, werr)
			}
		}
	}
}

// bigBuilder has more words than WriteTo converts at once.
func bigBuilder(bo binary.ByteOrder) *Builder {
	b := allKinds(bo)
	for i := range 7000 {
		b.Ptr(TypeID(1 + i%20))
	}
	return b
}

type failWriter struct{ left int }

var errFull = errors.New("full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errFull
	}
	w.left -= len(p)
	return len(p), nil
}

// TestWriteTo: WriteTo writes Marshal's bytes in both byte orders, with a
// longer header, the sections in either order and more words than one
// conversion chunk; a writer's error stops it with the count written.
func TestWriteTo(t *testing.T) {
	var inputs [][]byte
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		raw := bigBuilder(bo).Bytes()
		ext := append(append(append([]byte{}, raw[:HeaderLen]...), make([]byte, 8)...), raw[HeaderLen:]...)
		bo.PutUint32(ext[4:], 32)
		inputs = append(inputs, raw, ext)
	}
	b := allKinds(binary.LittleEndian)
	for b.Strings.Len()%4 != 0 {
		b.AddString("pad" + string(rune('a'+b.Strings.Len()%4)))
	}
	raw := b.Bytes()
	h := mustParse(t, raw).Header()
	first := make([]byte, len(raw))
	copy(first, raw[:HeaderLen])
	binary.LittleEndian.PutUint32(first[8:], h.StrLen)
	binary.LittleEndian.PutUint32(first[16:], 0)
	copy(first[HeaderLen:], raw[HeaderLen+h.StrOff:])
	copy(first[HeaderLen+int(h.StrLen):], raw[HeaderLen:HeaderLen+h.TypeLen])
	inputs = append(inputs, first)

	for i, in := range inputs {
		s := mustParse(t, in)
		var out bytes.Buffer
		n, err := s.WriteTo(&out)
		if err != nil || n != int64(len(in)) || s.MarshalLen() != len(in) || !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("input %d: WriteTo wrote %d bytes (%v), MarshalLen %d, want the %d input bytes", i, n, err, s.MarshalLen(), len(in))
		}
		w := &failWriter{left: len(in) / 2}
		if n, err := s.WriteTo(w); !errors.Is(err, errFull) || n != int64(len(in)/2) {
			t.Fatalf("input %d: WriteTo into a full writer: %d, %v", i, n, err)
		}
	}
}
