package btf

import "fmt"

// Parse decodes a standalone BTF blob. The Spec keeps its own copy of the
// types (as words) and aliases data for the strings: data must not change.
func Parse(data []byte) (*Spec, error) {
	return parse(data, nil)
}

// ParseSplit decodes a split BTF blob whose ids and string offsets continue
// after base's.
func ParseSplit(data []byte, base *Spec) (*Spec, error) {
	if base == nil {
		return nil, fmt.Errorf("btf: ParseSplit: %w: no base given", ErrNotSplit)
	}
	return parse(data, base)
}

func parse(data []byte, base *Spec) (*Spec, error) {
	hdr, bo, extra, err := parseHeader(data)
	if err != nil {
		return nil, err
	}
	s := &Spec{order: bo, hdr: hdr, hdrExtra: extra, base: base, firstID: 1}
	if base != nil {
		s.firstID = base.NumIDs()
		s.strStart = base.StrEnd()
	}
	strAt := int(hdr.HdrLen + hdr.StrOff)
	s.strs = data[strAt : strAt+int(hdr.StrLen) : strAt+int(hdr.StrLen)]
	if err := s.checkStrings(strAt); err != nil {
		return nil, err
	}
	typeAt := int(hdr.HdrLen + hdr.TypeOff)
	if err := s.decodeTypes(data[typeAt:typeAt+int(hdr.TypeLen)], typeAt); err != nil {
		return nil, err
	}
	return s, nil
}

// checkStrings applies the kernel's string section rules: a standalone
// BTF's section starts with the empty string; any non-empty section ends
// in NUL; offsets stay below BTF_MAX_NAME_OFFSET.
func (s *Spec) checkStrings(at int) error {
	n := len(s.strs)
	switch {
	case n == 0 && s.base == nil:
		return errAt(ErrBadStrings, 20, "empty string section in a standalone BTF (it must hold at least \"\")")
	case n == 0:
		return nil
	case s.base == nil && s.strs[0] != 0:
		return errAt(ErrBadStrings, at, "string section does not start with \"\"")
	case s.strs[n-1] != 0:
		return errAt(ErrBadStrings, at+n-1, "string section does not end in NUL")
	case uint64(s.strStart)+uint64(n)-1 > maxNameOffset:
		return errAt(ErrBadStrings, 20, "string section ends at offset %d, past the limit %d", uint64(s.strStart)+uint64(n), maxNameOffset+1)
	}
	return nil
}

// decodeTypes converts the type section to words and indexes the types.
// Id and string ranges are checked against the maxima seen during the
// walk, so the common (valid) case makes a single pass.
func (s *Spec) decodeTypes(sec []byte, at int) error {
	s.words = make([]uint32, len(sec)/4)
	for i := range s.words {
		s.words[i] = s.order.Uint32(sec[4*i:])
	}
	// A type is at least 12 bytes: a good first guess of the count.
	s.offs = make([]uint32, 0, len(s.words)/4+1)
	strEnd := s.StrEnd()
	var maxStr, maxID uint32
	var fields []int
	w := s.words
	for pos := 0; pos < len(w); {
		id := s.firstID + TypeID(len(s.offs))
		off := at + 4*pos
		if len(w)-pos < typeHdrWords {
			return errType(ErrTruncated, id, off, "%d bytes left in the type section, a type needs 12", 4*(len(w)-pos))
		}
		info := w[pos+1]
		if info&^infoMask != 0 {
			return errType(ErrBadInfo, id, off+4, "info %#08x has bits outside %#08x set", info, uint32(infoMask))
		}
		kind, vlen := infoKind(info), infoVlen(info)
		n := trailerWords(kind, vlen)
		if kind == KindUnknown || n < 0 {
			return errType(ErrUnknownKind, id, off+4, "kind %d", kind)
		}
		if len(w)-pos-typeHdrWords < n {
			return errType(ErrTruncated, id, off, "%s with vlen %d needs %d bytes, %d left in the type section",
				kind, vlen, 4*(typeHdrWords+n), 4*(len(w)-pos))
		}
		fields = StringFields(fields[:0], kind, vlen)
		for _, f := range fields {
			maxStr = max(maxStr, w[pos+f])
		}
		if maxStr >= strEnd && maxStr != 0 {
			for _, f := range fields {
				if v := w[pos+f]; v >= strEnd && v != 0 {
					return errType(ErrStringRange, id, off+4*f, "string offset %d, strings end at %d", v, strEnd)
				}
			}
		}
		fields = IDFields(fields[:0], kind, vlen)
		for _, f := range fields {
			maxID = max(maxID, w[pos+f])
		}
		s.offs = append(s.offs, uint32(pos))
		pos += typeHdrWords + n
	}
	s.offs = append(s.offs, uint32(len(w)))
	if maxID >= uint32(s.NumIDs()) {
		return s.checkTypeIDs(at)
	}
	return nil
}

// checkTypeIDs refuses type-id fields that point past the last type.
func (s *Spec) checkTypeIDs(at int) error {
	end := uint32(s.NumIDs())
	var fields []int
	for i := range s.NumLocal() {
		t := s.Local(i)
		fields = t.IDFields(fields[:0])
		for _, f := range fields {
			if t.W[f] >= end {
				return errType(ErrTypeIDRange, t.ID, at+4*int(s.offs[i])+4*f,
					"%s refers to type [%d], ids end at %d", t.Kind(), t.W[f], end)
			}
		}
	}
	return nil
}
