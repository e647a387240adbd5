package btf

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzParse: no input panics, and every accepted input round-trips.
func FuzzParse(f *testing.F) {
	f.Add(allKinds(binary.LittleEndian).Bytes())
	f.Add(allKinds(binary.BigEndian).Bytes())
	f.Add([]byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Marshal(), data) {
			t.Fatal("accepted input does not round-trip")
		}
		var out bytes.Buffer
		if err := s.Dump(&out); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseSplit: the same for split BTF on a fixed base, where string
// offsets and ids cross into the base.
func FuzzParseSplit(f *testing.F) {
	base, err := Parse(allKinds(binary.LittleEndian).Bytes())
	if err != nil {
		f.Fatal(err)
	}
	b := NewBuilder(binary.LittleEndian, base)
	b.Struct("bar", 8, Member{"foo", 6, 0})
	b.Ptr(22)
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSplit(data, base)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Marshal(), data) {
			t.Fatal("accepted split input does not round-trip")
		}
		for id := TypeID(0); id < s.NumIDs(); id++ {
			typ, err := s.Type(id)
			if err != nil {
				t.Fatal(err)
			}
			s.Name(typ)
		}
	})
}
