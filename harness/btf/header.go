package btf

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
)

// Header is the fixed part of a BTF header (struct btf_header).
type Header struct {
	Magic   uint16
	Version uint8
	Flags   uint8
	HdrLen  uint32
	TypeOff uint32 // relative to the end of the header
	TypeLen uint32
	StrOff  uint32 // relative to the end of the header
	StrLen  uint32
	// LayoutOff and LayoutLen locate the kind-layout section (Linux 7.2,
	// libbpf 1.8), when hdr_len is at least 32; LayoutLen 0: none.
	LayoutOff uint32
	LayoutLen uint32
}

// byteOrder detects the blob's byte order from its magic.
func byteOrder(data []byte) (binary.ByteOrder, error) {
	if len(data) < 2 {
		return nil, errAt(ErrTruncated, 0, "%d bytes, no room for the magic", len(data))
	}
	switch {
	case binary.LittleEndian.Uint16(data) == Magic:
		return binary.LittleEndian, nil
	case binary.BigEndian.Uint16(data) == Magic:
		return binary.BigEndian, nil
	}
	return nil, errAt(ErrBadMagic, 0, "magic %#02x%02x is not 0xeb9f in either byte order", data[0], data[1])
}

// parseHeader reads and checks the header. It returns the header bytes past
// the 24 this codec knows, which must be zero (as Linux 6.12 requires) and
// are kept so that encoding writes them back.
func parseHeader(data []byte) (Header, binary.ByteOrder, []byte, error) {
	var h Header
	bo, err := byteOrder(data)
	if err != nil {
		return h, nil, nil, err
	}
	if len(data) < HeaderLen {
		return h, nil, nil, errAt(ErrTruncated, 0, "%d bytes, shorter than the %d-byte header", len(data), HeaderLen)
	}
	h = Header{
		Magic:   bo.Uint16(data[0:]),
		Version: data[2],
		Flags:   data[3],
		HdrLen:  bo.Uint32(data[4:]),
		TypeOff: bo.Uint32(data[8:]),
		TypeLen: bo.Uint32(data[12:]),
		StrOff:  bo.Uint32(data[16:]),
		StrLen:  bo.Uint32(data[20:]),
	}
	switch {
	case h.Version != Version:
		return h, nil, nil, errAt(ErrBadHeader, 2, "version %d, only %d is known", h.Version, Version)
	case h.Flags != 0:
		return h, nil, nil, errAt(ErrBadHeader, 3, "flags %#x, none are defined", h.Flags)
	case h.HdrLen < HeaderLen:
		return h, nil, nil, errAt(ErrBadHeader, 4, "hdr_len %d is shorter than %d", h.HdrLen, HeaderLen)
	case uint64(h.HdrLen) > uint64(len(data)):
		return h, nil, nil, errAt(ErrTruncated, 4, "hdr_len %d past the end of %d bytes", h.HdrLen, len(data))
	}
	extra := data[HeaderLen:h.HdrLen]
	known := 0 // header bytes past HeaderLen this codec interprets
	if h.HdrLen >= LayoutHeaderLen {
		h.LayoutOff, h.LayoutLen = bo.Uint32(data[24:]), bo.Uint32(data[28:])
		known = LayoutHeaderLen - HeaderLen
	}
	for i, b := range extra[known:] {
		if b != 0 {
			return h, nil, nil, errAt(ErrBadHeader, HeaderLen+known+i,
				"non-zero byte %#02x in header bytes %d..%d, which this codec cannot interpret (it knows the headers of Linux 6.12 and 7.2, %d and %d bytes)",
				b, HeaderLen+known, h.HdrLen, HeaderLen, LayoutHeaderLen)
		}
	}
	if err := checkLayout(h, len(data)); err != nil {
		return h, nil, nil, err
	}
	return h, bo, extra, nil
}

// checkLayout enforces the kernel's section rules: aligned type section,
// both sections inside the blob, no gap, no overlap and nothing after them.
func checkLayout(h Header, size int) error {
	data := uint64(size) - uint64(h.HdrLen)
	if h.TypeOff%4 != 0 {
		return errAt(ErrBadLayout, 8, "type_off %d is not 4-byte aligned", h.TypeOff)
	}
	if h.TypeLen%4 != 0 {
		return errAt(ErrBadLayout, 12, "type_len %d is not a multiple of 4", h.TypeLen)
	}
	secs := sections(h)
	for _, s := range secs {
		if s.off+s.len > data {
			return errAt(ErrTruncated, s.field, "%s section %d+%d runs past the %d data bytes", s.name, s.off, s.len, data)
		}
	}
	if h.LayoutLen != 0 {
		switch {
		case h.LayoutOff%4 != 0:
			return errAt(ErrBadLayout, 24, "layout_off %d is not 4-byte aligned", h.LayoutOff)
		case h.LayoutLen%layoutEntry != 0:
			return errAt(ErrBadLayout, 28, "layout_len %d is not a whole number of %d-byte entries", h.LayoutLen, layoutEntry)
		}
	}
	end := uint64(0)
	for i, s := range secs {
		switch {
		case i == 0 && s.off != 0:
			return errAt(ErrBadLayout, s.field, "gap of %d bytes before the %s section", s.off, s.name)
		case i == 0:
		case s.off < end:
			p := secs[i-1]
			return errAt(ErrBadLayout, s.field, "%s section at %d overlaps the %s section %d+%d", s.name, s.off, p.name, p.off, p.len)
		case s.off > end:
			return errAt(ErrBadLayout, s.field, "gap of %d bytes between the %s and %s sections", s.off-end, secs[i-1].name, s.name)
		}
		end = s.off + s.len
	}
	if end != data {
		return errAt(ErrBadLayout, int(h.HdrLen)+int(end), "%d bytes after the sections", data-end)
	}
	return nil
}

// section is one data section of a BTF blob, for layout checks and
// encoding: field is the header offset of its offset word.
type section struct {
	name     string
	off, len uint64
	field    int
}

// sections are h's data sections in file order; the layout section only
// when it has a length.
func sections(h Header) []section {
	s := []section{{"type", uint64(h.TypeOff), uint64(h.TypeLen), 8}, {"string", uint64(h.StrOff), uint64(h.StrLen), 16}}
	if h.LayoutLen != 0 {
		s = append(s, section{"layout", uint64(h.LayoutOff), uint64(h.LayoutLen), 24})
	}
	slices.SortStableFunc(s, func(a, b section) int { return cmp.Compare(a.off, b.off) })
	return s
}

// putHeader writes h (and the kept header bytes) at the start of buf.
func putHeader(buf []byte, bo binary.ByteOrder, h Header, extra []byte) {
	bo.PutUint16(buf[0:], h.Magic)
	buf[2] = h.Version
	buf[3] = h.Flags
	bo.PutUint32(buf[4:], h.HdrLen)
	bo.PutUint32(buf[8:], h.TypeOff)
	bo.PutUint32(buf[12:], h.TypeLen)
	bo.PutUint32(buf[16:], h.StrOff)
	bo.PutUint32(buf[20:], h.StrLen)
	copy(buf[HeaderLen:], extra)
	if h.HdrLen >= LayoutHeaderLen {
		bo.PutUint32(buf[24:], h.LayoutOff)
		bo.PutUint32(buf[28:], h.LayoutLen)
	}
}

func (h Header) String() string {
	s := fmt.Sprintf("magic %#x version %d flags %#x hdr_len %d type_off %d type_len %d str_off %d str_len %d",
		h.Magic, h.Version, h.Flags, h.HdrLen, h.TypeOff, h.TypeLen, h.StrOff, h.StrLen)
	if h.HdrLen >= LayoutHeaderLen {
		s += fmt.Sprintf(" layout_off %d layout_len %d", h.LayoutOff, h.LayoutLen)
	}
	return s
}
