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
	buf := make([]byte, int(h.HdrLen)+int(h.TypeLen)+int(h.StrLen))
	putHeader(buf, s.order, h, s.hdrExtra)
	putWords(buf[h.HdrLen+h.TypeOff:], s.order, s.words)
	copy(buf[h.HdrLen+h.StrOff:], s.strs)
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
		end := int(h.HdrLen) + int(h.TypeLen) + int(h.StrLen)
		if h == s.hdr && len(r) == end &&
			sameBytes(s.hdrExtra, r[HeaderLen:h.HdrLen]) &&
			sameBytes(wordBytes(s.words), r[h.HdrLen+h.TypeOff:h.HdrLen+h.TypeOff+h.TypeLen]) &&
			sameBytes(s.strs, r[h.HdrLen+h.StrOff:h.HdrLen+h.StrOff+h.StrLen]) {
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
	return int(h.HdrLen) + int(h.TypeLen) + int(h.StrLen)
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
	strs := func() error {
		if len(s.strs) == 0 {
			return nil
		}
		return write(s.strs)
	}
	first, second := types, strs
	if h.StrOff < h.TypeOff {
		first, second = strs, types
	}
	if err := first(); err != nil {
		return n, err
	}
	return n, second()
}

// marshalHeader is the header Marshal writes: s's, with the lengths and
// offsets of the sections as they are now, in the order s had them.
func (s *Spec) marshalHeader() Header {
	h := s.hdr
	h.TypeLen = uint32(4 * len(s.words))
	h.StrLen = uint32(len(s.strs))
	if s.hdr.StrOff < s.hdr.TypeOff {
		h.StrOff, h.TypeOff = 0, h.StrLen
	} else {
		h.TypeOff, h.StrOff = 0, h.TypeLen
	}
	return h
}

// newHeader is the header libbpf 1.5 writes: 24 bytes, types then strings.
func newHeader() Header {
	return Header{Magic: Magic, Version: Version, HdrLen: HeaderLen}
}
