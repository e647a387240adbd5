package btf

import (
	"bytes"
	"fmt"
)

// Edits for hand-made wrong inputs (the negative and hostile cases). Each
// returns a new value and leaves its input alone, and keeps every other
// byte where it was: a distilled base's string offsets are shared with its
// split, so an edit that moved them would break more than it says.

// WithWord returns a copy of s with word w of local type i set to v.
func (s *Spec) WithWord(i, w int, v uint32) *Spec {
	c := s.Copy()
	c.Local(i).W[w] = v
	return c
}

// Renamed returns a copy of s whose local type i is called name, written
// over the old name's bytes: name must be as long as the old one. Every
// other type with that name offset is renamed too.
func (s *Spec) Renamed(i int, name string) (*Spec, error) {
	t := s.Local(i)
	old := s.Name(t)
	if t.NameOff() == 0 || len(old) != len(name) || t.NameOff() < s.strStart {
		return nil, fmt.Errorf("rename [%d] %q to %q: %w", t.ID, old, name, ErrBadKindForOp)
	}
	c := *s
	c.strs = bytes.Clone(s.strs)
	copy(c.strs[t.NameOff()-s.strStart:], name)
	return &c, nil
}

// SwapByteOrder re-encodes raw BTF in the other byte order: the header's
// fields and every type word (a type section holds only 32-bit words).
func SwapByteOrder(raw []byte) ([]byte, error) {
	h, _, _, err := parseHeader(raw)
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(raw)
	swap := func(b []byte) { b[0], b[1], b[2], b[3] = b[3], b[2], b[1], b[0] }
	out[0], out[1] = out[1], out[0]
	hdrWords := HeaderLen
	if h.HdrLen >= LayoutHeaderLen {
		hdrWords = LayoutHeaderLen
	}
	for o := 4; o+4 <= hdrWords; o += 4 {
		swap(out[o:])
	}
	start := int(h.HdrLen + h.TypeOff)
	for o := start; o+4 <= start+int(h.TypeLen) && o+4 <= len(out); o += 4 {
		swap(out[o:])
	}
	// A kind-layout entry is two bytes and a 16-bit flags word.
	start = int(h.HdrLen + h.LayoutOff)
	for o := start; o+layoutEntry <= start+int(h.LayoutLen); o += layoutEntry {
		out[o+2], out[o+3] = out[o+3], out[o+2]
	}
	return out, nil
}

// AppendTypes returns raw with words (type records in raw's byte order)
// added after its last type; a string section behind the types moves back.
func AppendTypes(raw []byte, words ...uint32) ([]byte, error) {
	h, bo, _, err := parseHeader(raw)
	if err != nil {
		return nil, err
	}
	end := int(h.HdrLen + h.TypeOff + h.TypeLen)
	if end > len(raw) {
		return nil, errAt(ErrTruncated, end, "type section ends past the blob (%d bytes)", len(raw))
	}
	add := make([]byte, 4*len(words))
	putWords(add, bo, words)
	out := append(append(append(make([]byte, 0, len(raw)+len(add)), raw[:end]...), add...), raw[end:]...)
	bo.PutUint32(out[12:], h.TypeLen+uint32(len(add)))
	if h.StrOff >= h.TypeOff+h.TypeLen {
		bo.PutUint32(out[16:], h.StrOff+uint32(len(add)))
	}
	return out, nil
}
