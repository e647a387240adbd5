package btf

import "fmt"

// Parse decodes a standalone BTF blob. The Spec aliases data: its strings
// always, its types too when data is in host byte order and the type
// section 4-byte aligned (otherwise they are a converted copy). So data must
// not change while the Spec is in use, and a Spec is rewritten only through
// a Copy (which owns its words), never in place.
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
	s := &Spec{order: bo, hdr: hdr, hdrExtra: extra, raw: data}
	if hdr.LayoutLen != 0 {
		at := int(hdr.HdrLen + hdr.LayoutOff)
		s.layout = data[at : at+int(hdr.LayoutLen) : at+int(hdr.LayoutLen)]
	}
	strAt := int(hdr.HdrLen + hdr.StrOff)
	s.strs = data[strAt : strAt+int(hdr.StrLen) : strAt+int(hdr.StrLen)]
	typeAt := int(hdr.HdrLen + hdr.TypeOff)
	return s.decode(base, data[typeAt:typeAt+int(hdr.TypeLen)])
}

// decode checks s's strings and decodes types, the type section, on base;
// the header, strings and layout are set. Offsets in errors are where
// the header places the sections.
func (s *Spec) decode(base *Spec, types []byte) (*Spec, error) {
	s.base, s.firstID, s.strStart = base, 1, 0
	if base != nil {
		s.firstID = base.NumIDs()
		s.strStart = base.StrEnd()
	}
	if err := s.checkStrings(int(s.hdr.HdrLen + s.hdr.StrOff)); err != nil {
		return nil, err
	}
	if err := s.decodeTypes(types, int(s.hdr.HdrLen+s.hdr.TypeOff)); err != nil {
		return nil, err
	}
	return s, nil
}

// Rebase decodes s again on base (nil: standalone) as ParseSplit would
// decode its encoding, with every check, but sharing s's words and strings
// instead of encoding them: a rewritten Copy is checked without a third
// copy of its types or a second of its strings. Write it out with WriteTo;
// Encoded would be Marshal's new buffer. In the other byte order it is
// parse of Marshal.
func (s *Spec) Rebase(base *Spec) (*Spec, error) {
	if s.order != hostOrder {
		return parse(s.Marshal(), base)
	}
	r := &Spec{order: s.order, hdr: s.marshalHeader(), hdrExtra: s.hdrExtra, layout: s.layout, strs: s.strs}
	return r.decode(base, wordBytes(s.words))
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
// The walk checks only structure and tracks the largest string offset and
// type id seen; only if one is out of range does checkRefs make a second,
// exact pass to name the culprit. Valid input, the common case, costs one
// pass.
func (s *Spec) decodeTypes(sec []byte, at int) error {
	s.words = toWords(sec, s.order)
	// A type is at least 12 bytes: a good first guess of the count.
	s.offs = make([]uint32, 0, len(s.words)/4+1)
	var maxStr, maxID uint32
	w := s.words
	for pos := 0; pos < len(w); {
		if len(w)-pos < typeHdrWords {
			id := s.firstID + TypeID(len(s.offs))
			return errType(ErrTruncated, id, at+4*pos, "%d bytes left in the type section, a type needs 12", 4*(len(w)-pos))
		}
		info := w[pos+1]
		kind, vlen := infoKind(info), infoVlen(info)
		n := trailerWords(kind, vlen)
		if info&^infoMask != 0 || kind == KindUnknown || n < 0 || len(w)-pos-typeHdrWords < n {
			return s.badType(w[pos:], TypeID(len(s.offs))+s.firstID, at+4*pos)
		}
		maxStr = max(maxStr, w[pos])
		t := w[pos : pos+typeHdrWords+n]
		switch kind {
		case KindPtr, KindTypedef, KindConst, KindVolatile, KindRestrict,
			KindTypeTag, KindFwd, KindFunc, KindVar, KindDeclTag:
			maxID = max(maxID, t[2])
		case KindArray:
			maxID = max(maxID, t[3], t[4])
		case KindStruct, KindUnion:
			for i := 3; i < len(t); i += 3 {
				maxStr, maxID = max(maxStr, t[i]), max(maxID, t[i+1])
			}
		case KindEnum:
			for i := 3; i < len(t); i += 2 {
				maxStr = max(maxStr, t[i])
			}
		case KindEnum64:
			for i := 3; i < len(t); i += 3 {
				maxStr = max(maxStr, t[i])
			}
		case KindFuncProto:
			maxID = max(maxID, t[2])
			for i := 3; i < len(t); i += 2 {
				maxStr, maxID = max(maxStr, t[i]), max(maxID, t[i+1])
			}
		case KindDatasec:
			for i := 3; i < len(t); i += 3 {
				maxID = max(maxID, t[i])
			}
		}
		s.offs = append(s.offs, uint32(pos))
		pos += len(t)
	}
	s.offs = append(s.offs, uint32(len(w)))
	if (maxStr != 0 && maxStr >= s.StrEnd()) || maxID >= uint32(s.NumIDs()) {
		return s.checkRefs(at)
	}
	return nil
}

// badType says what is structurally wrong with the type starting at w.
func (s *Spec) badType(w []uint32, id TypeID, off int) error {
	info := w[1]
	kind, vlen := infoKind(info), infoVlen(info)
	switch n := trailerWords(kind, vlen); {
	case info&^infoMask != 0:
		return errType(ErrBadInfo, id, off+4, "info %#08x has bits outside %#08x set", info, uint32(infoMask))
	case kind == KindUnknown || n < 0:
		return errType(ErrUnknownKind, id, off+4, "kind %d", kind)
	default:
		return errType(ErrTruncated, id, off, "%s with vlen %d needs %d bytes, %d left in the type section",
			kind, vlen, 4*(typeHdrWords+n), 4*len(w))
	}
}

// checkRefs finds the first string offset or type id out of range.
func (s *Spec) checkRefs(at int) error {
	strEnd, idEnd := s.StrEnd(), uint32(s.NumIDs())
	var fields []int
	for i := range s.NumLocal() {
		t := s.Local(i)
		off := at + 4*int(s.offs[i])
		for _, f := range t.StringFields(fields[:0]) {
			if v := t.W[f]; v >= strEnd && v != 0 {
				return errType(ErrStringRange, t.ID, off+4*f, "%s %s: string offset %d, strings end at %d",
					t.Kind(), FieldName(t.Kind(), f), v, strEnd)
			}
		}
		for _, f := range t.IDFields(fields[:0]) {
			if t.W[f] >= idEnd {
				return errType(ErrTypeIDRange, t.ID, off+4*f,
					"%s %s refers to type [%d], ids end at %d", t.Kind(), FieldName(t.Kind(), f), t.W[f], idEnd)
			}
		}
	}
	return nil
}
