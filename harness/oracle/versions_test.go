package oracle

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// Where libbpf 1.5 (linux-source-6.12) and libbpf 1.8 (linux-source-7.2)
// behave differently on the same input, one test per difference, each run
// against both oracles. They were found by running both on the same
// inputs (the hand, generated and corpus inputs of the three-way run, each
// also with random bit, byte and header edits, plus the probes below) and
// explained by reading both trees' tools/lib/bpf/btf.c. The type and string
// sections both write agree on everything else (TestDebianCorpus in
// harness/recon holds that over every module of Debian's 6.12.107).
//
// The expected outcomes are worked out by hand from those sources; the
// relocated bytes from the contract, as in oracle_test.go.

var be order = binary.BigEndian

// versioned picks the expectation of o's version.
func versioned[T any](o *Oracle, v15, v18 T) T {
	if o.Version == V18 {
		return v18
	}
	return v15
}

// withHdrLen returns b (24-byte header) with hdr_len n and extra after the
// 24 known bytes (len(extra) = n-24), sections unchanged.
func withHdrLen(bo order, b []byte, n uint32, extra []byte) []byte {
	out := append([]byte{}, b[:24]...)
	bo.PutUint32(out[4:], n)
	out = append(out, extra...)
	return append(out, b[24:]...)
}

// withLayout returns b (24-byte header) with libbpf 1.8's 32-byte header
// and the kind-layout section lay between types and strings: layout_off =
// type_len, str_off = type_len + len(lay).
func withLayout(bo order, b []byte, lay []byte) []byte {
	typeLen, strLen := bo.Uint32(b[12:]), bo.Uint32(b[20:])
	h := append([]byte{}, b[:4]...)
	for _, w := range []uint32{32, 0, typeLen, typeLen + uint32(len(lay)), strLen, typeLen, uint32(len(lay))} {
		h = bo.AppendUint32(h, w)
	}
	h = append(h, b[24:24+typeLen]...)
	h = append(h, lay...)
	return append(h, b[24+typeLen:]...)
}

// layoutSec is a kind-layout section (struct btf_layout: info_sz, elem_sz,
// flags u16) describing kinds 0..19 as include/uapi/linux/btf.h lays them
// out, then one entry per extra kind.
func layoutSec(bo order, extra ...[2]byte) []byte {
	known := [][2]byte{
		{0, 0}, {4, 0}, {0, 0}, {12, 0}, {0, 12}, {0, 12}, {0, 8}, {0, 0}, {0, 0}, {0, 0}, // UNKN..VOLATILE
		{0, 0}, {0, 0}, {0, 0}, {0, 8}, {4, 0}, {0, 12}, {0, 0}, {4, 0}, {0, 0}, {0, 12}, // CONST..ENUM64
	}
	var out []byte
	for _, e := range append(known, extra...) {
		out = append(out, e[0], e[1])
		out = bo.AppendUint16(out, 0)
	}
	return out
}

// withWord returns b with the 32-bit word at byte offset off set to w.
func withWord(bo order, b []byte, off int, w uint32) []byte {
	out := append([]byte{}, b...)
	bo.PutUint32(out[off:], w)
	return out
}

// errno of a libbpf refusal, 0 for success (a harness failure fails t).
func errnoOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("not a libbpf verdict: %v", err)
	}
	return e.Errno
}

// btf__distill_base's outputs: 1.5 writes its 24-byte header, 1.8 a 32-byte
// one (hdr_len 32, then layout_off 0 and layout_len 0) and no kind-layout
// section; type_off, type_len, str_off and str_len, the types and the
// strings are the same bytes. Hand-written headers, both byte orders.
func TestVersionsDistillHeader(t *testing.T) {
	want := map[Version]map[string]string{
		V15: {
			"LE distilled": "9f eb 01 00 18 00 00 00 00 00 00 00 1c 00 00 00 1c 00 00 00 09 00 00 00",
			"LE new split": "9f eb 01 00 18 00 00 00 00 00 00 00 3c 00 00 00 3c 00 00 00 08 00 00 00",
			"BE distilled": "eb 9f 01 00 00 00 00 18 00 00 00 00 00 00 00 1c 00 00 00 1c 00 00 00 09",
			"BE new split": "eb 9f 01 00 00 00 00 18 00 00 00 00 00 00 00 3c 00 00 00 3c 00 00 00 08",
		},
		V18: {
			"LE distilled": "9f eb 01 00 20 00 00 00 00 00 00 00 1c 00 00 00 1c 00 00 00 09 00 00 00 00 00 00 00 00 00 00 00",
			"LE new split": "9f eb 01 00 20 00 00 00 00 00 00 00 3c 00 00 00 3c 00 00 00 08 00 00 00 00 00 00 00 00 00 00 00",
			"BE distilled": "eb 9f 01 00 00 00 00 20 00 00 00 00 00 00 00 1c 00 00 00 1c 00 00 00 09 00 00 00 00 00 00 00 00",
			"BE new split": "eb 9f 01 00 00 00 00 20 00 00 00 00 00 00 00 3c 00 00 00 3c 00 00 00 08 00 00 00 00 00 00 00 00",
		},
	}
	outs := map[Version][][]byte{}
	each(t, func(t *testing.T, o *Oracle) {
		for _, bo := range []order{le, be} {
			tag := map[order]string{le: "LE", be: "BE"}[bo]
			d, s, err := o.Distill(base0(bo), split0(bo))
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range []struct {
				what string
				got  []byte
			}{{"distilled", d}, {"new split", s}} {
				sec, err := Cut(x.got)
				if err != nil {
					t.Fatal(err)
				}
				if h := hexs(sec.Header); h != want[o.Version][tag+" "+x.what] {
					t.Errorf("%s %s header:\n got %s\nwant %s", tag, x.what, h, want[o.Version][tag+" "+x.what])
				}
				if sec.Layout != nil || len(x.got) != len(sec.Header)+len(sec.Types)+len(sec.Strings) {
					t.Errorf("%s %s: a layout section or other bytes besides types and strings", tag, x.what)
				}
				if len(sec.Header) != o.Version.HeaderLen() {
					t.Errorf("%s %s: hdr_len %d, HeaderLen says %d", tag, x.what, len(sec.Header), o.Version.HeaderLen())
				}
				outs[o.Version] = append(outs[o.Version], x.got)
			}
		}
	})
	a, b := outs[V15], outs[V18]
	if len(a) != 4 || len(b) != 4 {
		return // a version failed above
	}
	for i := range a {
		x, _ := Cut(a[i])
		y, _ := Cut(b[i])
		if !bytes.Equal(x.Types, y.Types) || !bytes.Equal(x.Strings, y.Strings) {
			t.Errorf("output %d: 1.5 and 1.8 types or strings differ: %s", i, DiffSections(a[i], b[i]))
		}
		if w, err := V18.AsWritten(a[i]); err != nil || !bytes.Equal(w, b[i]) {
			t.Errorf("output %d: V18.AsWritten(1.5's) is not 1.8's (%v): %s", i, err, DiffSections(w, b[i]))
		}
	}
}

func hexs(b []byte) string {
	var s []byte
	for i, c := range b {
		if i > 0 {
			s = append(s, ' ')
		}
		s = append(s, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
	}
	return string(s)
}

// A big-endian BTF whose hdr_len is not 24: libbpf 1.5's btf_parse_hdr()
// refuses every non-native header but the 24-byte one (-EOPNOTSUPP, "Can't
// load BTF with non-native endianness due to unsupported header length");
// 1.8 takes any hdr_len of 24 or more (and checks it against the size like
// any other, -EINVAL). So 1.5 cannot read what 1.8's btf__distill_base
// writes for a big-endian module; 1.8 relocates it and keeps its header.
func TestVersionsBigEndianHeaderLen(t *testing.T) {
	each(t, func(t *testing.T, o *Oracle) {
		// 1.8's own big-endian outputs, written here by hand.
		d, s := distilled0V(V18, be), newSplit0V(V18, be)
		got, err := o.Relocate(d, s, target1(be, 8))
		if o.Version == V15 {
			wantErr(t, err, -95, "EOPNOTSUPP", "Can't load BTF with non-native endianness due to unsupported header length 32")
		} else if err != nil {
			t.Fatal(err)
		} else {
			// relocated0 with the split's 32-byte header.
			wantBytes(t, "relocated", got, withHdrLen(be, relocated0(be), 32, make([]byte, 8)))
		}
		// Only the split's header grown (40 bytes, zero past 24): the same.
		s40 := withHdrLen(be, newSplit0(be), 40, make([]byte, 16))
		got, err = o.Relocate(distilled0(be), s40, target1(be, 8))
		if o.Version == V15 {
			wantErr(t, err, -95, "EOPNOTSUPP", "unsupported header length 40")
		} else if err != nil {
			t.Fatal(err)
		} else {
			wantBytes(t, "relocated", got, withHdrLen(be, relocated0(be), 40, make([]byte, 16)))
		}
		// A target whose hdr_len is past the end of the data.
		tgt := withWord(be, target1(be, 8), 4, 0x40018)
		_, err = o.Relocate(distilled0(be), newSplit0(be), tgt)
		if o.Version == V15 {
			wantErr(t, err, -95, "EOPNOTSUPP", "unsupported header length 262168")
		} else {
			wantErr(t, err, -22, "EINVAL", "parse TARGET failed")
		}
	})
}

// Header bytes 24..31 of a native-order BTF: 1.5 does not know them (it
// reads struct btf_header's 24 bytes and ignores the rest), 1.8 reads them
// as layout_off and layout_len and checks the section they describe
// (4-aligned, after the types, before the strings; a whole number of
// 4-byte entries) or refuses the BTF (-EINVAL). A valid one both accept,
// and the relocated split keeps it (it is the input's own buffer).
func TestVersionsLayoutHeaderFields(t *testing.T) {
	each(t, func(t *testing.T, o *Oracle) {
		for _, tc := range []struct {
			name  string
			extra []byte // bytes 24..31 of the split's header
		}{
			{"layout_off 1 layout_len 1", []byte{1, 0, 0, 0, 1, 0, 0, 0}},
			{"layout_off 0 layout_len 4 (inside the types)", []byte{0, 0, 0, 0, 4, 0, 0, 0}},
			{"layout_off 0x3c layout_len 3 (not whole entries)", []byte{0x3c, 0, 0, 0, 3, 0, 0, 0}},
		} {
			s := withHdrLen(le, newSplit0(le), 32, tc.extra)
			got, err := o.Relocate(distilled0(le), s, target1(le, 8))
			if o.Version == V18 {
				wantErr(t, err, -22, "EINVAL", "parse SPLIT failed")
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			wantBytes(t, tc.name, got, withHdrLen(le, relocated0(le), 32, tc.extra))
		}
		// A valid kind-layout section (the 20 kinds both know) in the split,
		// the distilled base and the target: both relocate, the same bytes.
		lay := layoutSec(le)
		got, err := o.Relocate(withLayout(le, distilled0(le), lay), withLayout(le, newSplit0(le), lay), withLayout(le, target1(le, 8), lay))
		if err != nil {
			t.Fatal(err)
		}
		wantBytes(t, "relocated with layout sections", got, withLayout(le, relocated0(le), lay))
		// Big endian: 1.5 stops at the header length (see
		// TestVersionsBigEndianHeaderLen); 1.8 re-serializes the split
		// with its section in place.
		got, err = o.Relocate(distilled0(be), withLayout(be, newSplit0(be), layoutSec(be)), target1(be, 8))
		if o.Version == V15 {
			wantErr(t, err, -95, "EOPNOTSUPP", "unsupported header length 32")
		} else if err != nil {
			t.Fatal(err)
		} else {
			wantBytes(t, "relocated big endian with a layout section", got, withLayout(be, relocated0(be), layoutSec(be)))
		}
	})
}

// A kind past ENUM64 (20) that a kind-layout section describes: 1.8 sizes
// it from the section (btf_type_size_unknown(); a split without a section
// uses its base's) and accepts the BTF, 1.5 knows kinds 0..19 only
// (-EINVAL while parsing). In a target that is all relocation needs: the
// type has no key and is skipped. In a split, 1.8's btf__relocate then
// fails at it (its field iterator knows no such kind), and big endian it
// cannot be byte-swapped (-EINVAL while parsing).
func TestVersionsUnknownKindWithLayout(t *testing.T) {
	kind20 := []uint32{0, info(20, 0, false), 0}
	// target1(8) and [5] kind 20; strings "" foo@1 x@5 y@7 int@9.
	tgt := func(bo order) []byte {
		return btfRaw(bo, "\x00foo\x00x\x00y\x00int\x00",
			ptrT(2), structT(1, 8, member{5, 3, 0}, member{7, 3, 32}), intT(9, 4, signed, 32), typedefT(1, 2), kind20)
	}
	lay := func(bo order) []byte { return layoutSec(bo, [2]byte{0, 0}) }
	each(t, func(t *testing.T, o *Oracle) {
		got, err := o.Relocate(distilled0(le), newSplit0(le), withLayout(le, tgt(le), lay(le)))
		if o.Version == V15 {
			wantErr(t, err, -22, "EINVAL", "parse TARGET failed")
		} else if err != nil {
			t.Fatal(err)
		} else {
			// nd=3, nb=6: split ids +3 (3->6, 4->7); D int(1)->3, foo(2)->2;
			// dlen 9, blen 13: own strings +4, "foo"(5) -> 1.
			wantBytes(t, "relocated", got, btfRaw(le, "bar\x00p\x00n\x00",
				structT(13, 24, member{1, 2, 0}, member{17, 7, 64}, member{19, 3, 128}), ptrT(2)))
		}
		// No layout section: neither knows the kind.
		_, err = o.Relocate(distilled0(le), newSplit0(le), tgt(le))
		wantErr(t, err, -22, "EINVAL", "parse TARGET failed")
		// Big endian, with a layout section (1.5 stops at its header).
		_, err = o.Relocate(distilled0(be), newSplit0(be), withLayout(be, tgt(be), lay(be)))
		wantErr(t, err, versioned(o, -95, -22), versioned(o, "EOPNOTSUPP", "EINVAL"), "parse TARGET failed")

		// In the split (sized by the distilled base's section).
		split := btfRaw(le, "bar\x00p\x00n\x00",
			structT(9, 24, member{5, 2, 0}, member{13, 4, 64}, member{15, 1, 128}), ptrT(2), kind20)
		_, err = o.Relocate(withLayout(le, distilled0(le), lay(le)), split, target1(le, 8))
		wantErr(t, err, -22, "EINVAL", versioned(o, "parse SPLIT failed", "btf__relocate failed"))
	})
}

// The kind field of a type's info word: 1.5 reads bits 24-28
// (BTF_INFO_KIND masks 0x1f), 1.8 bits 24-30 (0x7f). An INT whose info has
// bit 29 set (kind 0x21) is an INT to 1.5, which relocates onto it; 1.8
// does not know kind 33 (no layout section) and refuses the target.
func TestVersionsInfoKindBits(t *testing.T) {
	// target1(8)'s [3] INT 'int': its info word after the header, [1] PTR
	// (12 bytes), [2] STRUCT with two members (36) and its name_off.
	const intInfo = 24 + 12 + 36 + 4
	each(t, func(t *testing.T, o *Oracle) {
		base := target1(le, 8)
		if got := le.Uint32(base[intInfo:]); got != info(kInt, 0, false) {
			t.Fatalf("word %d is %#x, not INT's info", intInfo, got)
		}
		got, err := o.Relocate(distilled0(le), newSplit0(le), withWord(le, base, intInfo, 0x21000000))
		if o.Version == V18 {
			wantErr(t, err, -22, "EINVAL", "parse TARGET failed")
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		wantBytes(t, "relocated onto kind 0x21 as an INT", got, relocated0(le))
	})
}

// The vlen field: 1.5 reads bits 0-15 (BTF_INFO_VLEN masks 0xffff), 1.8
// bits 0-23 (0xffffff). A STRUCT whose info has bit 16 set has its two
// members to 1.5; to 1.8 it has 65538, past the end of the types
// ("BTF type [2] is malformed", -EINVAL).
func TestVersionsInfoVlenBits(t *testing.T) {
	// target1(8)'s [2] STRUCT 'foo' {x, y}: info word at 24 + 12 + 4.
	const fooInfo = 24 + 12 + 4
	each(t, func(t *testing.T, o *Oracle) {
		base := target1(le, 8)
		if got := le.Uint32(base[fooInfo:]); got != info(kStruct, 2, false) {
			t.Fatalf("word %d is %#x, not foo's info", fooInfo, got)
		}
		got, err := o.Relocate(distilled0(le), newSplit0(le), withWord(le, base, fooInfo, info(kStruct, 0x10002, false)))
		if o.Version == V18 {
			wantErr(t, err, -22, "EINVAL", "BTF type [2] is malformed")
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		wantBytes(t, "relocated", got, relocated0(le))
	})
}

// A native-order split whose hdr_len is below 16: 1.8 copies only hdr_len
// bytes of the header into its struct (the rest stays 0), so type_len and
// str_len are 0: an empty split, which is valid, relocates (nothing to
// do) and comes back as the input's bytes; distilled, it gives an empty
// distilled base and an empty split. 1.5 reads the 24 bytes regardless and
// finds the types where the header says, from byte hdr_len on: -EINVAL.
func TestVersionsShortHeaderSplit(t *testing.T) {
	each(t, func(t *testing.T, o *Oracle) {
		for _, n := range []uint32{0, 8, 12} {
			s := withWord(le, newSplit0(le), 4, n)
			got, err := o.Relocate(distilled0(le), s, target1(le, 8))
			if o.Version == V15 {
				wantErr(t, err, -22, "EINVAL", "parse SPLIT failed")
			} else if err != nil {
				t.Fatalf("hdr_len %d: %v", n, err)
			} else {
				wantBytes(t, "relocated (untouched)", got, s)
			}
		}
		d, s, err := o.Distill(base0(le), withWord(le, split0(le), 4, 0))
		if o.Version == V15 {
			wantErr(t, err, -22, "EINVAL", "parse SPLIT failed")
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		wantBytes(t, "distilled", d, built(V18, le, "\x00"))
		wantBytes(t, "new split", s, built(V18, le, ""))
		// 16 bytes and up: type_len is read, the types start at byte 16.
		_, err = o.Relocate(distilled0(le), withWord(le, newSplit0(le), 4, 16), target1(le, 8))
		wantErr(t, err, -22, "EINVAL", "parse SPLIT failed")
	})
}

// Agreements worth pinning because the sources changed around them: every
// refusal the oracle tests see carries the same log under both versions
// (1.8 added the newline libbpf 1.5's "string ... is not mapped to base
// BTF" warning lacked; the driver's frame ends every line, so the logs are
// equal); and a split FUNC_PROTO whose return type lies past the end is
// refused by neither distill (btf_update_distilled_type_ids reads past its
// id map, so its output is whatever lies there: the bytes are not
// compared).
func TestVersionsSameRefusals(t *testing.T) {
	type refusal struct {
		name      string
		d, s, tgt []byte
	}
	cases := []refusal{
		{"embedded size mismatch", distilled0(le), newSplit0(le), target1(le, 16)},
		{"unmapped string", btfRaw(le, "\x00int\x00", intT(1, 4, signed, 32)), btfRaw(le, "s\x00", structT(5, 4, member{2, 1, 0})), base0(le)},
		{"void-named target", distilled0(le), newSplit0(le), btfRaw(le, "\x00int\x00foo\x00", intT(1, 4, signed, 32), structT(5, 8), structT(4, 8))},
		{"bad distilled kind", btfRaw(le, "\x00int\x00t\x00", intT(1, 4, signed, 32), typedefT(5, 1)), btfRaw(le, "", ptrT(1)), base0(le)},
		{"ambiguous", distilled0(le), newSplit0(le), btfRaw(le, "\x00foo\x00int\x00", intT(5, 4, signed, 32), structT(1, 8), structT(1, 8))},
	}
	logs := map[string]map[Version]string{}
	each(t, func(t *testing.T, o *Oracle) {
		for _, c := range cases {
			_, err := o.Relocate(c.d, c.s, c.tgt)
			if errnoOf(t, err) == 0 {
				t.Fatalf("%s: relocated", c.name)
			}
			if logs[c.name] == nil {
				logs[c.name] = map[Version]string{}
			}
			logs[c.name][o.Version] = err.(*Error).Log
		}
		// [4] FUNC_PROTO returning [99], on base0.
		split := btfRaw(le, "", []uint32{0, info(kFuncProt, 0, false), 99})
		if _, _, err := o.Distill(base0(le), split); err != nil {
			t.Fatalf("distill of a FUNC_PROTO returning a type past the end: %v, want no refusal", err)
		}
	})
	for name, l := range logs {
		if len(l) == 2 && l[V15] != l[V18] {
			t.Errorf("%s: logs differ:\n1.5: %q\n1.8: %q", name, l[V15], l[V18])
		}
	}
}
