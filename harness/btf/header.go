package btf

import (
	"encoding/binary"
	"fmt"
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
	for i, b := range extra {
		if b != 0 {
			return h, nil, nil, errAt(ErrBadHeader, HeaderLen+i,
				"non-zero byte %#02x in header bytes %d..%d, which this codec cannot interpret (it knows the %d-byte header of Linux 6.12)",
				b, HeaderLen, h.HdrLen, HeaderLen)
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
	type sec struct {
		name     string
		off, len uint64
		field    int
	}
	a := sec{"type", uint64(h.TypeOff), uint64(h.TypeLen), 8}
	b := sec{"string", uint64(h.StrOff), uint64(h.StrLen), 16}
	if b.off < a.off {
		a, b = b, a
	}
	for _, s := range []sec{a, b} {
		if s.off+s.len > data {
			return errAt(ErrTruncated, s.field, "%s section %d+%d runs past the %d data bytes", s.name, s.off, s.len, data)
		}
	}
	switch {
	case a.off != 0:
		return errAt(ErrBadLayout, a.field, "gap of %d bytes before the %s section", a.off, a.name)
	case b.off < a.off+a.len:
		return errAt(ErrBadLayout, b.field, "%s section at %d overlaps the %s section %d+%d", b.name, b.off, a.name, a.off, a.len)
	case b.off > a.off+a.len:
		return errAt(ErrBadLayout, b.field, "gap of %d bytes between the %s and %s sections", b.off-a.off-a.len, a.name, b.name)
	case b.off+b.len != data:
		return errAt(ErrBadLayout, int(h.HdrLen)+int(b.off+b.len), "%d bytes after the sections", data-b.off-b.len)
	}
	return nil
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
}

func (h Header) String() string {
	return fmt.Sprintf("magic %#x version %d flags %#x hdr_len %d type_off %d type_len %d str_off %d str_len %d",
		h.Magic, h.Version, h.Flags, h.HdrLen, h.TypeOff, h.TypeLen, h.StrOff, h.StrLen)
}
