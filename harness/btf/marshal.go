package btf

import (
	"io"
	"unsafe"
)

// Marshal encodes the Spec in its byte order. A decoded Spec that was not
// changed encodes to exactly the bytes it was decoded from: the header is
// kept (its lengths and offsets recomputed, the section order kept) and so
// are the header bytes past the 24 this codec knows.
func (s *Spec) Marshal() []byte {
	h := s.marshalHeader()
	buf := make([]byte, int(h.HdrLen)+int(h.TypeLen)+int(h.StrLen)+int(h.LayoutLen))
	putHeader(buf, s.order, h, s.hdrExtra)
	putWords(buf[h.HdrLen+h.TypeOff:], s.order, s.words)
	copy(buf[h.HdrLen+h.StrOff:], s.strs)
	copy(buf[h.HdrLen+h.LayoutOff:], s.layout)
	return buf
}

// Encoded returns Marshal's bytes, without a copy when the Spec's storage
// still is the one blob it was decoded from, laid out as Marshal writes it:
// a decoded Spec in host byte order, such as Relocate's and Distill's
// results. Then the result is that blob and aliases the Spec: it must not be
// modified. Otherwise (a Copy, an edit, the other byte order) it is
// Marshal's new buffer.
func (s *Spec) Encoded() []byte {
	if r := s.raw; r != nil && s.order == hostOrder {
		h := s.marshalHeader()
		end := int(h.HdrLen) + int(h.TypeLen) + int(h.StrLen) + int(h.LayoutLen)
		if h == s.hdr && len(r) == end &&
			sameBytes(s.hdrExtra, r[HeaderLen:h.HdrLen]) &&
			sameBytes(wordBytes(s.words), r[h.HdrLen+h.TypeOff:h.HdrLen+h.TypeOff+h.TypeLen]) &&
			sameBytes(s.strs, r[h.HdrLen+h.StrOff:h.HdrLen+h.StrOff+h.StrLen]) &&
			sameBytes(s.layout, r[h.HdrLen+h.LayoutOff:h.HdrLen+h.LayoutOff+h.LayoutLen]) {
			return r
		}
	}
	return s.Marshal()
}

// sameBytes says whether a and b are the same memory (not just equal).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || unsafe.SliceData(a) == unsafe.SliceData(b))
}

// wordBytes is words as bytes in host order, aliasing them.
func wordBytes(words []uint32) []byte {
	if len(words) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 4*len(words))
}

// MarshalLen is the length of Marshal's result.
func (s *Spec) MarshalLen() int {
	h := s.marshalHeader()
	return int(h.HdrLen) + int(h.TypeLen) + int(h.StrLen) + int(h.LayoutLen)
}

// WriteTo writes Marshal's bytes to w without building them in one buffer:
// the header, then the sections in the header's order, each passed to w as
// the Spec holds it when it is in host byte order (converted in pieces
// otherwise). It implements io.WriterTo.
func (s *Spec) WriteTo(w io.Writer) (int64, error) {
	h := s.marshalHeader()
	var n int64
	write := func(b []byte) error {
		m, err := w.Write(b)
		n += int64(m)
		return err
	}
	hdr := make([]byte, h.HdrLen)
	putHeader(hdr, s.order, h, s.hdrExtra)
	if err := write(hdr); err != nil {
		return n, err
	}
	types := func() error {
		if len(s.words) == 0 {
			return nil
		}
		if s.order == hostOrder {
			return write(wordBytes(s.words))
		}
		const chunk = 16 << 10 // words
		buf := make([]byte, 4*min(chunk, len(s.words)))
		for rest := s.words; len(rest) > 0; {
			c := rest[:min(chunk, len(rest))]
			putWords(buf, s.order, c)
			if err := write(buf[:4*len(c)]); err != nil {
				return err
			}
			rest = rest[len(c):]
		}
		return nil
	}
	bytesOf := func(b []byte) func() error {
		return func() error {
			if len(b) == 0 {
				return nil
			}
			return write(b)
		}
	}
	for _, sec := range sections(h) {
		part := types
		switch sec.name {
		case "string":
			part = bytesOf(s.strs)
		case "layout":
			part = bytesOf(s.layout)
		}
		if err := part(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// marshalHeader is the header Marshal writes: s's, with the lengths and
// offsets of the sections as they are now, in the order s had them (one
// after the other: a layout section, when there is one, where it was).
func (s *Spec) marshalHeader() Header {
	h := s.hdr
	h.TypeLen = uint32(4 * len(s.words))
	h.StrLen = uint32(len(s.strs))
	h.LayoutLen = uint32(len(s.layout))
	off := uint32(0)
	for _, sec := range sections(s.hdr) {
		switch sec.name {
		case "type":
			h.TypeOff, off = off, off+h.TypeLen
		case "string":
			h.StrOff, off = off, off+h.StrLen
		case "layout":
			h.LayoutOff, off = off, off+h.LayoutLen
		}
	}
	if h.LayoutLen == 0 {
		h.LayoutOff = s.hdr.LayoutOff // kept as written (libbpf 1.8 writes 0)
	}
	return h
}

// newHeader is the header libbpf 1.5 writes: 24 bytes, types then strings.
func newHeader() Header {
	return Header{Magic: Magic, Version: Version, HdrLen: HeaderLen}
}
