package btf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestRoundTripAllKinds(t *testing.T) {
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			raw := allKinds(bo).Bytes()
			s := mustParse(t, raw)
			if got := s.NumIDs(); got != 22 {
				t.Fatalf("NumIDs = %d, want 22", got)
			}
			if s.Order() != bo {
				t.Fatalf("Order = %v, want %v", s.Order(), bo)
			}
			if out := s.Marshal(); !bytes.Equal(out, raw) {
				t.Fatalf("round trip differs: %d bytes in, %d out", len(raw), len(out))
			}
		})
	}
}

func TestTypeAccess(t *testing.T) {
	s := mustParse(t, allKinds(binary.LittleEndian).Bytes())
	for _, tc := range []struct {
		id   TypeID
		kind Kind
		name string
		vlen int
		flag bool
	}{
		{0, KindUnknown, "", 0, false},
		{1, KindInt, "int", 0, false},
		{6, KindStruct, "foo", 3, true},
		{7, KindUnion, "", 2, false},
		{8, KindEnum, "e", 2, true},
		{9, KindEnum64, "e64", 1, false},
		{16, KindFunc, "f", 1, false},
		{21, KindTypeTag, "user", 0, false},
	} {
		typ, err := s.Type(tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if typ.Kind() != tc.kind || s.Name(typ) != tc.name || typ.Vlen() != tc.vlen || typ.KindFlag() != tc.flag {
			t.Errorf("[%d] = %s %q vlen %d flag %v, want %s %q vlen %d flag %v", tc.id,
				typ.Kind(), s.Name(typ), typ.Vlen(), typ.KindFlag(), tc.kind, tc.name, tc.vlen, tc.flag)
		}
	}
	if _, err := s.Type(22); !errors.Is(err, ErrTypeIDRange) {
		t.Fatalf("Type(22) error = %v, want ErrTypeIDRange", err)
	}
}

func TestSplit(t *testing.T) {
	base := mustParse(t, allKinds(binary.LittleEndian).Bytes())
	b := NewBuilder(binary.LittleEndian, base)
	st := b.Struct("bar", 32, Member{"f", 6, 0}, Member{"int", 1, 192}) // "int" reuses no base string: split strings are its own
	b.Ptr(st)
	raw := b.Bytes()
	s, err := ParseSplit(raw, base)
	if err != nil {
		t.Fatal(err)
	}
	if s.FirstID() != 22 || s.NumIDs() != 24 || s.StrStart() != base.StrEnd() {
		t.Fatalf("split ids %d..%d str start %d, want 22..24 and %d", s.FirstID(), s.NumIDs(), s.StrStart(), base.StrEnd())
	}
	bar, _ := s.Type(22)
	if got := s.Name(bar); got != "bar" {
		t.Fatalf("split type 22 name %q", got)
	}
	if bar.NameOff() < base.StrEnd() {
		t.Fatalf("split name offset %d should be past the base's %d", bar.NameOff(), base.StrEnd())
	}
	ptr, _ := s.Type(23)
	if ptr.SizeType() != 22 {
		t.Fatalf("PTR points to %d, want 22", ptr.SizeType())
	}
	intType, _ := s.Type(1)
	if s.Name(intType) != "int" {
		t.Fatalf("base type through the split: %q", s.Name(intType))
	}
	if !bytes.Equal(s.Marshal(), raw) {
		t.Fatal("split round trip differs")
	}
	if _, err := ParseSplit(raw, nil); !errors.Is(err, ErrNotSplit) {
		t.Fatalf("ParseSplit(nil base) = %v", err)
	}
}

func TestHeaderExtraKept(t *testing.T) {
	raw := allKinds(binary.BigEndian).Bytes()
	// Grow the header to 32 bytes of which the last 8 are zero.
	ext := append(append(append([]byte{}, raw[:HeaderLen]...), make([]byte, 8)...), raw[HeaderLen:]...)
	binary.BigEndian.PutUint32(ext[4:], 32)
	s := mustParse(t, ext)
	if !bytes.Equal(s.Marshal(), ext) {
		t.Fatal("hdr_len 32 round trip differs")
	}
	// Bytes 24..31 are Linux 7.2's layout_off and layout_len: a layout
	// section of 256 bytes at 0 overlaps the types.
	ext[30] = 1
	if _, err := Parse(ext); !errors.Is(err, ErrBadLayout) || !strings.Contains(err.Error(), "layout section at 0 overlaps the type section") {
		t.Fatalf("layout_len 256 at 0: got %v", err)
	}
	// Past 32 bytes nothing is known: a non-zero byte there is refused.
	ext40 := append(append(append([]byte{}, raw[:HeaderLen]...), make([]byte, 16)...), raw[HeaderLen:]...)
	binary.BigEndian.PutUint32(ext40[4:], 40)
	mustParse(t, ext40)
	ext40[36] = 1
	_, err := Parse(ext40)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrBadHeader) || e.Offset != 36 {
		t.Fatalf("non-zero header byte 36: got %v", err)
	}
}

// withLayout puts a kind-layout section of n entries between the types and
// the strings of raw (24-byte header), growing the header to 32 bytes.
func withLayout(raw []byte, bo binary.ByteOrder, entries ...[4]byte) []byte {
	typeLen := bo.Uint32(raw[12:])
	strLen := bo.Uint32(raw[20:])
	var lay []byte
	for _, e := range entries {
		lay = append(lay, e[:]...)
	}
	out := append([]byte{}, raw[:HeaderLen]...)
	out = append(out, make([]byte, 8)...)
	out = append(out, raw[HeaderLen:HeaderLen+int(typeLen)]...)
	out = append(out, lay...)
	out = append(out, raw[HeaderLen+int(typeLen):]...)
	bo.PutUint32(out[4:], LayoutHeaderLen)
	bo.PutUint32(out[16:], typeLen+uint32(len(lay)))
	bo.PutUint32(out[20:], strLen)
	bo.PutUint32(out[24:], typeLen)
	bo.PutUint32(out[28:], uint32(len(lay)))
	return out
}

func TestLayoutSection(t *testing.T) {
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		raw := allKinds(bo).Bytes()
		lay := withLayout(raw, bo, [4]byte{0, 0}, [4]byte{4, 0}, [4]byte{0, 12})
		s := mustParse(t, lay)
		if got := s.Layout(); !bytes.Equal(got, []byte{0, 0, 0, 0, 4, 0, 0, 0, 0, 12, 0, 0}) {
			t.Fatalf("%v: layout %x", bo, got)
		}
		h := s.Header()
		if h.HdrLen != 32 || h.LayoutOff != bo.Uint32(raw[12:]) || h.LayoutLen != 12 {
			t.Fatalf("%v: header %s", bo, h)
		}
		if !bytes.Equal(s.Marshal(), lay) {
			t.Fatalf("%v: round trip with a layout section differs", bo)
		}
		var w bytes.Buffer
		if _, err := s.WriteTo(&w); err != nil || !bytes.Equal(w.Bytes(), lay) {
			t.Fatalf("%v: WriteTo with a layout section: %v", bo, err)
		}
		// An edited copy keeps the section where it was.
		c := s.Copy()
		if !bytes.Equal(c.Marshal(), lay) {
			t.Fatalf("%v: a copy loses the layout section", bo)
		}
		for _, tc := range []struct {
			name string
			edit func(b []byte)
			msg  string
		}{
			{"layout not whole entries", func(b []byte) { bo.PutUint32(b[28:], 10); bo.PutUint32(b[16:], bo.Uint32(b[16:])-2) },
				"layout_len 10 is not a whole number of 4-byte entries"},
			{"layout misaligned", func(b []byte) { bo.PutUint32(b[24:], bo.Uint32(b[24:])+2) }, "layout_off"},
			{"layout past the end", func(b []byte) { bo.PutUint32(b[28:], 1<<20) }, "layout section"},
		} {
			b := bytes.Clone(lay)
			tc.edit(b)
			if _, err := Parse(b); err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%v %s: got %v, want %q", bo, tc.name, err, tc.msg)
			}
		}
	}
}

func TestStringsFirstLayout(t *testing.T) {
	b := allKinds(binary.LittleEndian)
	for b.Strings.Len()%4 != 0 { // the type section must stay aligned
		b.AddString("pad" + string(rune('a'+b.Strings.Len()%4)))
	}
	raw := b.Bytes()
	s := mustParse(t, raw)
	h := s.Header()
	// Rebuild with the string section before the type section.
	out := make([]byte, len(raw))
	copy(out, raw[:HeaderLen])
	binary.LittleEndian.PutUint32(out[8:], h.StrLen)
	binary.LittleEndian.PutUint32(out[16:], 0)
	copy(out[HeaderLen:], raw[HeaderLen+h.StrOff:])
	copy(out[HeaderLen+int(h.StrLen):], raw[HeaderLen:HeaderLen+h.TypeLen])
	s2 := mustParse(t, out)
	if !bytes.Equal(s2.Marshal(), out) {
		t.Fatal("strings-first round trip differs")
	}
	if s2.NumIDs() != s.NumIDs() {
		t.Fatal("strings-first decodes differently")
	}
}

// TestMalformed lists bad inputs and the exact error each must give.
func TestMalformed(t *testing.T) {
	le := binary.LittleEndian
	good := allKinds(le).Bytes()
	h := mustParse(t, good).Header()
	typeAt := HeaderLen + int(h.TypeOff)
	strAt := HeaderLen + int(h.StrOff)
	mod := func(f func(b []byte) []byte) []byte {
		return f(append([]byte{}, good...))
	}
	put := func(off int, v uint32) []byte {
		return mod(func(b []byte) []byte { le.PutUint32(b[off:], v); return b })
	}
	// Worked out by hand: 21 types take 396 bytes, 20 strings 74 bytes.
	// Type 6 (STRUCT foo) starts after 5 types: INT(16) INT(16) PTR(12) ARRAY(24) FWD(12).
	struct6 := typeAt + 16 + 16 + 12 + 24 + 12
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "btf: offset 0x0: 0 bytes, no room for the magic: truncated"},
		{"wrong magic", []byte{0x9f, 0xec, 1, 0}, "btf: offset 0x0: magic 0x9fec is not 0xeb9f in either byte order: bad magic"},
		{"short header", good[:20], "btf: offset 0x0: 20 bytes, shorter than the 24-byte header: truncated"},
		{"version 2", mod(func(b []byte) []byte { b[2] = 2; return b }), "btf: offset 0x2: version 2, only 1 is known: unsupported header"},
		{"flags", mod(func(b []byte) []byte { b[3] = 1; return b }), "btf: offset 0x3: flags 0x1, none are defined: unsupported header"},
		{"hdr_len 16", put(4, 16), "btf: offset 0x4: hdr_len 16 is shorter than 24: unsupported header"},
		{"hdr_len past end", put(4, 1<<20), "btf: offset 0x4: hdr_len 1048576 past the end of 494 bytes: truncated"},
		{"type_off unaligned", put(8, 2), "btf: offset 0x8: type_off 2 is not 4-byte aligned: bad section layout"},
		{"type_len odd", put(12, h.TypeLen-2), "btf: offset 0xc: type_len 394 is not a multiple of 4: bad section layout"},
		{"truncated strings", good[:len(good)-4], "btf: offset 0x10: string section 396+74 runs past the 466 data bytes: truncated"},
		{"overlap", put(16, h.StrOff-4), "btf: offset 0x10: string section at 392 overlaps the type section 0+396: bad section layout"},
		{"gap", mod(func(b []byte) []byte { le.PutUint32(b[16:], h.StrOff+4); return append(b, 0, 0, 0, 0) }), "btf: offset 0x10: gap of 4 bytes between the type and string sections: bad section layout"},
		{"trailing bytes", append(append([]byte{}, good...), 0), "btf: offset 0x1ee: 1 bytes after the sections: bad section layout"},
		{"strings not NUL-terminated", mod(func(b []byte) []byte { b[len(b)-1] = 'x'; return b }), "btf: offset 0x1ed: string section does not end in NUL: bad string section"},
		{"strings without leading empty", mod(func(b []byte) []byte { b[strAt] = 'x'; return b }), "btf: offset 0x1a4: string section does not start with \"\": bad string section"},
		{"unknown kind 20", put(typeAt+4, 20<<24), "btf: type [1] at offset 0x1c: kind 20: unknown kind"},
		{"kind 0", put(typeAt+4, 0), "btf: type [1] at offset 0x1c: kind 0: unknown kind"},
		{"info bits outside mask", put(typeAt+4, 1<<24|1<<30), "btf: type [1] at offset 0x1c: info 0x41000000 has bits outside 0x9f00ffff set: bad info word"},
		{"vlen past end", put(struct6+4, MakeInfo(KindStruct, 200, true)), "btf: type [6] at offset 0x68: STRUCT with vlen 200 needs 2412 bytes, 316 left in the type section: truncated"},
		{"name offset out of range", put(typeAt, 5000), "btf: type [1] at offset 0x18: INT name_off: string offset 5000, strings end at 74: string offset out of range"},
		{"member name out of range", put(struct6+12+12, 74), "btf: type [6] at offset 0x80: STRUCT member 1 name_off: string offset 74, strings end at 74: string offset out of range"},
		{"type id out of range", put(struct6+12+4, 22), "btf: type [6] at offset 0x78: STRUCT member 0 type refers to type [22], ids end at 22: type id out of range"},
		{"array index out of range", put(typeAt+16+16+12+16, 99), "btf: type [4] at offset 0x54: ARRAY index_type refers to type [99], ids end at 22: type id out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("accepted, %d types", s.NumLocal())
			}
			if got := err.Error(); got != tc.want {
				t.Fatalf("error\n got: %s\nwant: %s", got, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
		})
	}
}

func TestSplitMalformed(t *testing.T) {
	base := mustParse(t, allKinds(binary.LittleEndian).Bytes())
	for _, tc := range []struct {
		name  string
		build func(b *Builder)
		want  string
	}{
		{"id past split", func(b *Builder) { b.Ptr(23) }, "btf: type [22] at offset 0x20: PTR type refers to type [23], ids end at 23: type id out of range"},
		{"string past split", func(b *Builder) { b.Add(200, MakeInfo(KindPtr, 0, false), 1) }, "btf: type [22] at offset 0x18: PTR name_off: string offset 200, strings end at 74: string offset out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder(binary.LittleEndian, base)
			tc.build(b)
			_, err := ParseSplit(b.Bytes(), base)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}
