package btf

// Marshal encodes the Spec in its byte order. A decoded Spec that was not
// changed encodes to exactly the bytes it was decoded from: the header is
// kept (its lengths and offsets recomputed, the section order kept) and so
// are the header bytes past the 24 this codec knows.
func (s *Spec) Marshal() []byte {
	h := s.hdr
	h.TypeLen = uint32(4 * len(s.words))
	h.StrLen = uint32(len(s.strs))
	if s.hdr.StrOff < s.hdr.TypeOff {
		h.StrOff, h.TypeOff = 0, h.StrLen
	} else {
		h.TypeOff, h.StrOff = 0, h.TypeLen
	}
	buf := make([]byte, int(h.HdrLen)+int(h.TypeLen)+int(h.StrLen))
	putHeader(buf, s.order, h, s.hdrExtra)
	putWords(buf[h.HdrLen+h.TypeOff:], s.order, s.words)
	copy(buf[h.HdrLen+h.StrOff:], s.strs)
	return buf
}

// newHeader is the header libbpf 1.5 writes: 24 bytes, types then strings.
func newHeader() Header {
	return Header{Magic: Magic, Version: Version, HdrLen: HeaderLen}
}
