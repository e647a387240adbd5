package diff

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// base: [1] int, [2] struct list_head; split: [3] ptr -> 2, [4] struct foo { list_head l; int x; }.
func build(t *testing.T, memberType btf.TypeID) (*btf.Spec, *btf.Spec) {
	t.Helper()
	bb := btf.NewBuilder(binary.LittleEndian, nil)
	i := bb.Int("int", 4, btf.IntSigned)
	lh := bb.Struct("list_head", 16)
	base, err := bb.Spec()
	if err != nil {
		t.Fatal(err)
	}
	sb := btf.NewBuilder(binary.LittleEndian, base)
	sb.Ptr(lh)
	sb.Struct("foo", 24, btf.Member{Name: "l", Type: memberType}, btf.Member{Name: "x", Type: i, Offset: 128})
	split, err := sb.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return base, split
}

func TestCompare(t *testing.T) {
	base, model := build(t, 2)
	tests := []struct {
		name       string
		kernel     []byte
		identical  bool
		wantFields []string
		wantText   []string
	}{
		{"identical", model.Marshal(), true, nil, []string{"identical"}},
		{"member type", func() []byte { _, k := build(t, 1); return k.Marshal() }(), false,
			[]string{"members[0].type"}, []string{"[4] STRUCT 'foo'", "kernel 1 (0x1), model 2 (0x2)", "'l' type_id=1", "'l' type_id=2", "id map"}},
		{"truncated", model.Marshal()[:30], false, nil, []string{"do not decode"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idMap := []btf.TypeID{0, 1, 2, 3, 4}
			r := Compare(tc.kernel, model, base, idMap, 3)
			if r.Identical != tc.identical {
				t.Fatalf("Identical = %v, want %v", r.Identical, tc.identical)
			}
			var fields []string
			for _, td := range r.Types {
				for _, f := range td.Fields {
					fields = append(fields, f.Field)
				}
			}
			if strings.Join(fields, ",") != strings.Join(tc.wantFields, ",") {
				t.Errorf("fields %v, want %v", fields, tc.wantFields)
			}
			var b strings.Builder
			r.Write(&b, "m")
			for _, w := range tc.wantText {
				if !strings.Contains(b.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

func TestFieldName(t *testing.T) {
	tests := []struct {
		k    btf.Kind
		w    int
		want string
	}{
		{btf.KindStruct, 0, "name_off"},
		{btf.KindStruct, 2, "size"},
		{btf.KindPtr, 2, "type"},
		{btf.KindStruct, 7, "members[1].type"},
		{btf.KindEnum, 6, "enumerators[1].val"},
		{btf.KindArray, 4, "index_type"},
		{btf.KindFuncProto, 2, "ret_type"},
		{btf.KindFuncProto, 4, "params[0].type"},
		{btf.KindDatasec, 5, "vars[0].size"},
	}
	for _, tc := range tests {
		if got := FieldName(tc.k, tc.w); got != tc.want {
			t.Errorf("FieldName(%v, %d) = %q, want %q", tc.k, tc.w, got, tc.want)
		}
	}
}
