package btf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	cbtf "github.com/cilium/ebpf/btf"
)

// crossCheck compares what we decoded with what cilium/ebpf decodes from
// the same bytes: kind, name, size and members per id. It returns the
// number of types compared.
func crossCheck(t testing.TB, s *Spec, cs *cbtf.Spec) int {
	t.Helper()
	n := 0
	for id := s.FirstID(); id < s.NumIDs(); id++ {
		ours, err := s.Type(id)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := cs.TypeByID(cbtf.TypeID(id))
		if err != nil {
			t.Fatalf("cilium: [%d]: %v", id, err)
		}
		if want, got := describe(s, ours), describeCilium(theirs); want != got {
			t.Fatalf("[%d] differs\n ours:   %s\n cilium: %s", id, want, got)
		}
		n++
	}
	return n
}

// describe renders the facts both decoders expose in one comparable line.
func describe(s *Spec, t Type) string {
	name := s.Name(t)
	w := t.W
	switch k := t.Kind(); k {
	case KindInt:
		return fmt.Sprintf("INT %q size=%d", name, w[2])
	case KindFloat:
		return fmt.Sprintf("FLOAT %q size=%d", name, w[2])
	case KindStruct, KindUnion:
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s %q size=%d", k, name, w[2])
		for i := range t.Vlen() {
			m := w[3+3*i:]
			off, bits := m[2], uint32(0)
			if t.KindFlag() {
				off, bits = m[2]&0xffffff, m[2]>>24
			}
			mn, _ := s.String(m[0])
			fmt.Fprintf(&b, " {%q %d:%d}", mn, off, bits)
		}
		return b.String()
	case KindEnum, KindEnum64:
		return fmt.Sprintf("ENUM %q size=%d vlen=%d signed=%v", name, w[2], t.Vlen(), t.KindFlag())
	case KindFwd:
		return fmt.Sprintf("FWD %q union=%v", name, t.KindFlag())
	case KindArray:
		return fmt.Sprintf("ARRAY n=%d", w[5])
	case KindFuncProto:
		return fmt.Sprintf("FUNC_PROTO params=%d", t.Vlen())
	case KindDatasec:
		return fmt.Sprintf("DATASEC %q size=%d vars=%d", name, w[2], t.Vlen())
	case KindDeclTag: // cilium/ebpf does not export a DECL_TAG's value
		return "DECL_TAG"
	default:
		return fmt.Sprintf("%s %q", k, name)
	}
}

func describeCilium(t cbtf.Type) string {
	switch c := t.(type) {
	case *cbtf.Int:
		return fmt.Sprintf("INT %q size=%d", c.Name, c.Size)
	case *cbtf.Float:
		return fmt.Sprintf("FLOAT %q size=%d", c.Name, c.Size)
	case *cbtf.Struct:
		return composite("STRUCT", c.Name, c.Size, c.Members)
	case *cbtf.Union:
		return composite("UNION", c.Name, c.Size, c.Members)
	case *cbtf.Enum:
		return fmt.Sprintf("ENUM %q size=%d vlen=%d signed=%v", c.Name, c.Size, len(c.Values), c.Signed)
	case *cbtf.Fwd:
		return fmt.Sprintf("FWD %q union=%v", c.Name, c.Kind == cbtf.FwdUnion)
	case *cbtf.Array:
		return fmt.Sprintf("ARRAY n=%d", c.Nelems)
	case *cbtf.FuncProto:
		return fmt.Sprintf("FUNC_PROTO params=%d", len(c.Params))
	case *cbtf.Datasec:
		return fmt.Sprintf("DATASEC %q size=%d vars=%d", c.Name, c.Size, len(c.Vars))
	case *cbtf.Pointer:
		return `PTR ""`
	case *cbtf.Typedef:
		return fmt.Sprintf("TYPEDEF %q", c.Name)
	case *cbtf.Volatile:
		return `VOLATILE ""`
	case *cbtf.Const:
		return `CONST ""`
	case *cbtf.Restrict:
		return `RESTRICT ""`
	case *cbtf.Func:
		return fmt.Sprintf("FUNC %q", c.Name)
	case *cbtf.Var:
		return fmt.Sprintf("VAR %q", c.Name)
	case *cbtf.TypeTag:
		return fmt.Sprintf("TYPE_TAG %q", c.Value)
	}
	// DECL_TAG's Go type is unexported in cilium/ebpf.
	return "DECL_TAG"

}

func composite(kind, name string, size uint32, members []cbtf.Member) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %q size=%d", kind, name, size)
	for _, m := range members {
		fmt.Fprintf(&b, " {%q %d:%d}", m.Name, m.Offset, m.BitfieldSize)
	}
	return b.String()
}

func TestCiliumAgrees(t *testing.T) {
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			raw := allKinds(bo).Bytes()
			s := mustParse(t, raw)
			cs, err := cbtf.LoadSpecFromReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if n := crossCheck(t, s, cs); n != 21 {
				t.Fatalf("compared %d types, want 21", n)
			}
		})
	}
}
