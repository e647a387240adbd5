package btf

import (
	"bufio"
	"fmt"
	"io"
)

// Dump writes every type of the Spec (its own, not its base's) in the text
// form of `bpftool btf dump file F format raw`: one type a line, members
// indented below it. Names are resolved across the base.
func (s *Spec) Dump(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for i := range s.NumLocal() {
		s.FormatType(bw, s.Local(i))
	}
	return bw.Flush()
}

// FormatType writes one type in the Dump form.
func (s *Spec) FormatType(w io.Writer, t Type) {
	fmt.Fprintf(w, "[%d] %s %s", t.ID, t.Kind(), s.quoted(t.NameOff()))
	W, vlen := t.W, t.Vlen()
	switch t.Kind() {
	case KindInt:
		enc := W[3]
		fmt.Fprintf(w, " size=%d bits_offset=%d nr_bits=%d encoding=%s", W[2], enc>>16&0xff, enc&0xff, intEncoding(enc>>24&0xf))
	case KindPtr, KindTypedef, KindVolatile, KindConst, KindRestrict, KindTypeTag:
		fmt.Fprintf(w, " type_id=%d", W[2])
	case KindArray:
		fmt.Fprintf(w, " type_id=%d index_type_id=%d nr_elems=%d", W[3], W[4], W[5])
	case KindStruct, KindUnion:
		fmt.Fprintf(w, " size=%d vlen=%d", W[2], vlen)
		for i := range vlen {
			m := W[3+3*i:]
			fmt.Fprintf(w, "\n\t%s type_id=%d", s.quoted(m[0]), m[1])
			if t.KindFlag() {
				fmt.Fprintf(w, " bits_offset=%d", m[2]&0xffffff)
				if m[2]>>24 != 0 {
					fmt.Fprintf(w, " bitfield_size=%d", m[2]>>24)
				}
			} else {
				fmt.Fprintf(w, " bits_offset=%d", m[2])
			}
		}
	case KindEnum:
		fmt.Fprintf(w, " encoding=%s size=%d vlen=%d", signedness(t.KindFlag()), W[2], vlen)
		for i := range vlen {
			e := W[3+2*i:]
			if t.KindFlag() {
				fmt.Fprintf(w, "\n\t%s val=%d", s.quoted(e[0]), int32(e[1]))
			} else {
				fmt.Fprintf(w, "\n\t%s val=%d", s.quoted(e[0]), e[1])
			}
		}
	case KindEnum64:
		fmt.Fprintf(w, " encoding=%s size=%d vlen=%d", signedness(t.KindFlag()), W[2], vlen)
		for i := range vlen {
			e := W[3+3*i:]
			v := uint64(e[2])<<32 | uint64(e[1])
			if t.KindFlag() {
				fmt.Fprintf(w, "\n\t%s val=%dLL", s.quoted(e[0]), int64(v))
			} else {
				fmt.Fprintf(w, "\n\t%s val=%dULL", s.quoted(e[0]), v)
			}
		}
	case KindFwd:
		kind := "struct"
		if t.KindFlag() {
			kind = "union"
		}
		fmt.Fprintf(w, " fwd_kind=%s", kind)
		if W[2] != 0 { // not valid BTF, but show what a relocation would touch
			fmt.Fprintf(w, " type_id=%d", W[2])
		}
	case KindFunc:
		fmt.Fprintf(w, " type_id=%d linkage=%s", W[2], linkage(vlen, false))
	case KindFuncProto:
		fmt.Fprintf(w, " ret_type_id=%d vlen=%d", W[2], vlen)
		for i := range vlen {
			p := W[3+2*i:]
			fmt.Fprintf(w, "\n\t%s type_id=%d", s.quoted(p[0]), p[1])
		}
	case KindVar:
		fmt.Fprintf(w, " type_id=%d, linkage=%s", W[2], linkage(int(W[3]), true))
	case KindDatasec:
		fmt.Fprintf(w, " size=%d vlen=%d", W[2], vlen)
		for i := range vlen {
			v := W[3+3*i:]
			fmt.Fprintf(w, "\n\ttype_id=%d offset=%d size=%d", v[0], v[1], v[2])
			if vt, err := s.Type(TypeID(v[0])); err == nil { // bpftool names the entry
				fmt.Fprintf(w, " (%s %s)", vt.Kind(), s.quoted(vt.NameOff()))
			}
		}
	case KindFloat:
		fmt.Fprintf(w, " size=%d", W[2])
	case KindDeclTag:
		fmt.Fprintf(w, " type_id=%d component_idx=%d", W[2], int32(W[3]))
	}
	if t.KindFlag() {
		switch t.Kind() {
		case KindStruct, KindUnion, KindEnum, KindEnum64, KindFwd:
		default: // kind_flag means something only for the kinds above
			fmt.Fprint(w, " kind_flag=1")
		}
	}
	fmt.Fprintln(w)
}

func (s *Spec) quoted(off uint32) string {
	if off == 0 {
		return "'(anon)'"
	}
	name, err := s.StringBytes(off)
	if err != nil {
		return fmt.Sprintf("<bad name_off %d>", off)
	}
	return "'" + string(name) + "'"
}

func intEncoding(e uint32) string {
	switch e {
	case 0:
		return "(none)"
	case 1:
		return "SIGNED"
	case 2:
		return "CHAR"
	case 4:
		return "BOOL"
	}
	return fmt.Sprintf("%#x", e)
}

func signedness(signed bool) string {
	if signed {
		return "SIGNED"
	}
	return "UNSIGNED"
}

func linkage(l int, isVar bool) string {
	names := []string{"static", "global", "extern"}
	if isVar {
		names = []string{"static", "global", "extern"}
	}
	if l < len(names) {
		return names[l]
	}
	return fmt.Sprintf("(unknown %d)", l)
}
