package oracle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// The BTF header each libbpf writes for a BTF it built itself (the two
// outputs of btf__distill_base, serialized by btf__raw_data), read from
// libbpf's sources:
//
//   - 1.5 (linux-source-6.12): struct btf_header is magic, version, flags,
//     hdr_len, type_off, type_len, str_off, str_len: 24 bytes.
//   - 1.8 (linux-source-7.2): the struct grew layout_off and layout_len
//     (include/uapi/linux/btf.h); btf_new_empty() sets hdr_len to the
//     struct's size, 32, and adds a kind-layout section only when asked
//     (btf__new_empty_opts with add_layout), which btf__distill_base never
//     does: layout_off and layout_len stay 0, nothing lies between types and
//     strings, and btf_get_raw_data() copies the header as is.
//
// A relocated split is the parsed input's own buffer, rewritten in place:
// its header is the input's under both versions.

const (
	hdrLen15 = 24
	hdrLen18 = 32
)

// HeaderLen is the hdr_len v writes for a BTF it built.
func (v Version) HeaderLen() int {
	if v == V18 {
		return hdrLen18
	}
	return hdrLen15
}

// AsWritten returns raw (a BTF with libbpf 1.5's 24-byte header, as the
// model writes it too) with the header v writes in its place: for 1.8,
// hdr_len 32 and eight zero bytes (layout_off 0, layout_len 0) after
// str_len, in raw's byte order; every section unchanged. For 1.5 it is raw.
func (v Version) AsWritten(raw []byte) ([]byte, error) {
	bo, err := byteOrder(raw)
	if err != nil {
		return nil, err
	}
	if n := bo.Uint32(raw[4:]); n != hdrLen15 {
		return nil, fmt.Errorf("AsWritten: hdr_len %d, want libbpf 1.5's %d", n, hdrLen15)
	}
	if v.HeaderLen() == hdrLen15 {
		return raw, nil
	}
	out := make([]byte, 0, len(raw)+hdrLen18-hdrLen15)
	out = append(out, raw[:hdrLen15]...)
	bo.PutUint32(out[4:], hdrLen18)
	out = append(out, make([]byte, hdrLen18-hdrLen15)...)
	return append(out, raw[hdrLen15:]...), nil
}

// Sections is a raw BTF cut at its header's offsets (either byte order).
// Layout is the kind-layout section of a 32-byte header (libbpf 1.8), nil
// when layout_len is 0 or the header is shorter.
type Sections struct {
	Order                  binary.ByteOrder
	Header                 []byte // hdr_len bytes
	Types, Layout, Strings []byte
}

// Cut splits raw into its sections. It checks only that they lie inside
// raw, not how they are laid out.
func Cut(raw []byte) (Sections, error) {
	bo, err := byteOrder(raw)
	if err != nil {
		return Sections{}, err
	}
	hl := uint64(bo.Uint32(raw[4:]))
	if hl < hdrLen15 || hl > uint64(len(raw)) {
		return Sections{}, fmt.Errorf("hdr_len %d in %d bytes", hl, len(raw))
	}
	s := Sections{Order: bo, Header: raw[:hl]}
	sec := func(offAt, lenAt int) ([]byte, error) {
		off, n := uint64(bo.Uint32(raw[offAt:])), uint64(bo.Uint32(raw[lenAt:]))
		if hl+off+n > uint64(len(raw)) {
			return nil, fmt.Errorf("section at %d+%d past the end of %d bytes", off, n, len(raw))
		}
		return raw[hl+off : hl+off+n], nil
	}
	if s.Types, err = sec(8, 12); err != nil {
		return s, err
	}
	if s.Strings, err = sec(16, 20); err != nil {
		return s, err
	}
	if hl >= hdrLen18 && bo.Uint32(raw[28:]) != 0 {
		if s.Layout, err = sec(24, 28); err != nil {
			return s, err
		}
	}
	return s, nil
}

// DiffSections says which sections of got differ from want's ("" when the
// bytes are equal): header, types, layout, strings, each with the first
// differing byte within it.
func DiffSections(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	a, err := Cut(want)
	if err != nil {
		return "want: " + err.Error()
	}
	b, err := Cut(got)
	if err != nil {
		return "got: " + err.Error()
	}
	var out []string
	for _, s := range []struct {
		name string
		x, y []byte
	}{{"header", a.Header, b.Header}, {"types", a.Types, b.Types}, {"layout", a.Layout, b.Layout}, {"strings", a.Strings, b.Strings}} {
		if !bytes.Equal(s.x, s.y) {
			i := 0
			for i < len(s.x) && i < len(s.y) && s.x[i] == s.y[i] {
				i++
			}
			out = append(out, fmt.Sprintf("%s (%d vs %d bytes, first difference at %d)", s.name, len(s.x), len(s.y), i))
		}
	}
	if len(out) == 0 {
		return "same sections, different bytes between them"
	}
	return "differ: " + fmt.Sprint(out)
}

func byteOrder(raw []byte) (binary.ByteOrder, error) {
	switch {
	case len(raw) < hdrLen15:
		return nil, errors.New("shorter than a BTF header")
	case raw[0] == 0x9f && raw[1] == 0xeb:
		return binary.LittleEndian, nil
	case raw[0] == 0xeb && raw[1] == 0x9f:
		return binary.BigEndian, nil
	}
	return nil, fmt.Errorf("bad magic % x", raw[:2])
}
