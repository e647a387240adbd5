// Package diff compares the BTF a kernel served (/sys/kernel/btf/<module>)
// with what the model predicts, byte for byte; on a mismatch it says which
// types and fields differ, in the text form of `btfrecon dump`.
package diff

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// FieldDiff is one word of one type that differs.
type FieldDiff struct {
	Field         string // e.g. "type", "members[2].name_off"
	Kernel, Model uint32
}

// TypeDiff is one type that differs.
type TypeDiff struct {
	ID     btf.TypeID
	Kind   btf.Kind // the model's kind
	Name   string   // the model's name
	Fields []FieldDiff
	// Kernel and Model are the type in the dump form (several lines for
	// composites), "" when that side has no type with this id.
	Kernel, Model string
}

// Report is the comparison of one module's BTF.
type Report struct {
	Identical    bool
	KernelBytes  int
	ModelBytes   int
	FirstDiffAt  int    // byte offset of the first difference, -1 when identical
	HeaderDiff   string // "" when the headers agree
	StringsDiff  string // "" when the string sections agree
	KernelParse  error  // the kernel's bytes do not decode on the target base
	KernelTypes  int
	ModelTypes   int
	Types        []TypeDiff
	MoreTypes    int          // differing types left out (MaxTypes)
	IDMap        []btf.TypeID // the model's id map (pre-relocation id → target id)
	DistilledLen int          // ids below this in IDMap are the distilled base's
}

// MaxTypes bounds the per-type part of a report.
const MaxTypes = 50

// Compare compares the kernel's bytes with the model's relocated split
// (parsed on target). idMap and nd (the distilled base's NumIDs) come from
// the model's relocation and are printed with a mismatch; they may be nil/0.
func Compare(kernel []byte, model *btf.Spec, target *btf.Spec, idMap []btf.TypeID, nd int) *Report {
	mb := model.Marshal()
	r := &Report{KernelBytes: len(kernel), ModelBytes: len(mb), FirstDiffAt: -1, ModelTypes: model.NumLocal(), IDMap: idMap, DistilledLen: nd}
	if bytes.Equal(kernel, mb) {
		r.Identical = true
		r.KernelTypes = r.ModelTypes
		return r
	}
	r.FirstDiffAt = FirstDiff(kernel, mb)
	ks, err := btf.ParseSplit(kernel, target)
	if err != nil {
		r.KernelParse = err
		return r
	}
	r.KernelTypes = ks.NumLocal()
	if kh, mh := ks.Header(), model.Header(); kh != mh {
		r.HeaderDiff = fmt.Sprintf("kernel %+v, model %+v", kh, mh)
	}
	if !bytes.Equal(ks.Strings(), model.Strings()) {
		r.StringsDiff = fmt.Sprintf("kernel %d bytes, model %d bytes, first difference at string offset %d",
			len(ks.Strings()), len(model.Strings()), int(model.StrStart())+FirstDiff(ks.Strings(), model.Strings()))
	}
	n := max(ks.NumLocal(), model.NumLocal())
	for i := range n {
		var kt, mt *btf.Type
		if i < ks.NumLocal() {
			t := ks.Local(i)
			kt = &t
		}
		if i < model.NumLocal() {
			t := model.Local(i)
			mt = &t
		}
		if kt != nil && mt != nil && slices.Equal(kt.W, mt.W) {
			continue
		}
		if len(r.Types) >= MaxTypes {
			r.MoreTypes++
			continue
		}
		r.Types = append(r.Types, typeDiff(ks, model, kt, mt))
	}
	return r
}

func typeDiff(ks, ms *btf.Spec, kt, mt *btf.Type) TypeDiff {
	var d TypeDiff
	var ref *btf.Type
	var refSpec *btf.Spec
	if mt != nil {
		ref, refSpec = mt, ms
		d.Model = dump(ms, *mt)
	}
	if kt != nil {
		if ref == nil {
			ref, refSpec = kt, ks
		}
		d.Kernel = dump(ks, *kt)
	}
	d.ID, d.Kind, d.Name = ref.ID, ref.Kind(), refSpec.Name(*ref)
	if kt == nil || mt == nil {
		return d
	}
	n := max(len(kt.W), len(mt.W))
	for w := range n {
		var kv, mv uint32
		if w < len(kt.W) {
			kv = kt.W[w]
		}
		if w < len(mt.W) {
			mv = mt.W[w]
		}
		if kv != mv || w >= len(kt.W) || w >= len(mt.W) {
			d.Fields = append(d.Fields, FieldDiff{Field: FieldName(mt.Kind(), w), Kernel: kv, Model: mv})
		}
	}
	return d
}

func dump(s *btf.Spec, t btf.Type) string {
	var b strings.Builder
	s.FormatType(&b, t)
	return strings.TrimRight(b.String(), "\n")
}

// FirstDiff is the offset of the first byte where a and b differ (the
// shorter length when one is a prefix of the other).
func FirstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// FieldName names word w of a type of kind k in struct btf_type terms.
func FieldName(k btf.Kind, w int) string {
	switch w {
	case 0:
		return "name_off"
	case 1:
		return "info"
	case 2:
		switch k {
		case btf.KindInt, btf.KindStruct, btf.KindUnion, btf.KindEnum, btf.KindEnum64, btf.KindFloat, btf.KindDatasec:
			return "size"
		case btf.KindFuncProto:
			return "ret_type"
		}
		return "type"
	}
	x := w - 3
	member := func(what string, per int, names ...string) string {
		return fmt.Sprintf("%s[%d].%s", what, x/per, names[x%per])
	}
	switch k {
	case btf.KindInt:
		if x == 0 {
			return "encoding"
		}
	case btf.KindArray:
		if x < 3 {
			return []string{"elem_type", "index_type", "nelems"}[x]
		}
	case btf.KindStruct, btf.KindUnion:
		return member("members", 3, "name_off", "type", "offset")
	case btf.KindEnum:
		return member("enumerators", 2, "name_off", "val")
	case btf.KindEnum64:
		return member("enumerators", 3, "name_off", "val_lo32", "val_hi32")
	case btf.KindFuncProto:
		return member("params", 2, "name_off", "type")
	case btf.KindDatasec:
		return member("vars", 3, "type", "offset", "size")
	case btf.KindVar:
		if x == 0 {
			return "linkage"
		}
	case btf.KindDeclTag:
		if x == 0 {
			return "component_idx"
		}
	}
	return fmt.Sprintf("word[%d]", w)
}

// Write renders the report for a person.
func (r *Report) Write(w io.Writer, module string) {
	if r.Identical {
		fmt.Fprintf(w, "%s: identical (%d bytes, %d types)\n", module, r.KernelBytes, r.KernelTypes)
		return
	}
	fmt.Fprintf(w, "%s: DIFFERENT: kernel %d bytes, model %d bytes, first difference at byte %d\n",
		module, r.KernelBytes, r.ModelBytes, r.FirstDiffAt)
	if r.KernelParse != nil {
		fmt.Fprintf(w, "  the kernel's bytes do not decode on the target base: %v\n", r.KernelParse)
	}
	if r.HeaderDiff != "" {
		fmt.Fprintf(w, "  header: %s\n", r.HeaderDiff)
	}
	if r.StringsDiff != "" {
		fmt.Fprintf(w, "  strings: %s\n", r.StringsDiff)
	}
	if r.KernelParse == nil && r.KernelTypes != r.ModelTypes {
		fmt.Fprintf(w, "  types: kernel %d, model %d\n", r.KernelTypes, r.ModelTypes)
	}
	for _, t := range r.Types {
		name := t.Name
		if name == "" {
			name = "(anon)"
		}
		fmt.Fprintf(w, "  type [%d] %s '%s':\n", t.ID, t.Kind, name)
		for _, f := range t.Fields {
			fmt.Fprintf(w, "    %-24s kernel %d (%#x), model %d (%#x)\n", f.Field, f.Kernel, f.Kernel, f.Model, f.Model)
		}
		fmt.Fprintf(w, "    kernel: %s\n", indent(orNone(t.Kernel)))
		fmt.Fprintf(w, "    model:  %s\n", indent(orNone(t.Model)))
	}
	if r.MoreTypes > 0 {
		fmt.Fprintf(w, "  ... and %d more differing types\n", r.MoreTypes)
	}
	writeIDMap(w, r.IDMap, r.DistilledLen)
}

func orNone(s string) string {
	if s == "" {
		return "(no such type)"
	}
	return s
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n            ") }

// writeIDMap prints the distilled part of the id map one entry a line and
// the split part as the constant shift it is (or entry by entry where not).
func writeIDMap(w io.Writer, m []btf.TypeID, nd int) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(w, "  id map (model, pre-relocation id -> target id):\n")
	for i := 1; i < min(nd, len(m)); i++ {
		fmt.Fprintf(w, "    distilled [%d] -> [%d]\n", i, m[i])
	}
	if nd >= len(m) {
		return
	}
	shift := int64(m[nd]) - int64(nd)
	for i := nd; i < len(m); i++ {
		if int64(m[i])-int64(i) != shift {
			fmt.Fprintf(w, "    split [%d] -> [%d]\n", i, m[i])
		}
	}
	fmt.Fprintf(w, "    split [%d..%d] -> [%d..%d] (shift %+d)\n", nd, len(m)-1, int64(nd)+shift, int64(len(m)-1)+shift, shift)
}
