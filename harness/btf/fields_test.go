package btf

import (
	"slices"
	"testing"
)

// The contract's field iteration order, kind by kind, written out as word
// indices (0 name_off, 1 info, 2 size/type, then the trailer).
func TestFields(t *testing.T) {
	for _, tc := range []struct {
		kind      Kind
		vlen      int
		ids, strs []int
	}{
		{KindInt, 0, nil, []int{0}},
		{KindPtr, 0, []int{2}, []int{0}},
		{KindFwd, 0, []int{2}, []int{0}},
		{KindTypeTag, 0, []int{2}, []int{0}},
		{KindArray, 0, []int{3, 4}, []int{0}},
		{KindStruct, 2, []int{4, 7}, []int{0, 3, 6}},
		{KindUnion, 1, []int{4}, []int{0, 3}},
		{KindEnum, 2, nil, []int{0, 3, 5}},
		{KindEnum64, 2, nil, []int{0, 3, 6}},
		{KindFuncProto, 2, []int{2, 4, 6}, []int{0, 3, 5}},
		{KindFunc, 1, []int{2}, []int{0}},
		{KindVar, 0, []int{2}, []int{0}},
		{KindDatasec, 2, []int{3, 6}, []int{0}},
		{KindDeclTag, 0, []int{2}, []int{0}},
		{KindFloat, 0, nil, []int{0}},
	} {
		if got := IDFields(nil, tc.kind, tc.vlen); !slices.Equal(got, tc.ids) {
			t.Errorf("%s vlen %d: id fields %v, want %v", tc.kind, tc.vlen, got, tc.ids)
		}
		if got := StringFields(nil, tc.kind, tc.vlen); !slices.Equal(got, tc.strs) {
			t.Errorf("%s vlen %d: string fields %v, want %v", tc.kind, tc.vlen, got, tc.strs)
		}
	}
}

// Field names in decoding errors, word by word (see TestFields for the
// layouts).
func TestFieldName(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		w    int
		want string
	}{
		{KindInt, 0, "name_off"},
		{KindInt, 2, "word 2"},
		{KindPtr, 2, "type"},
		{KindFwd, 2, "type"},
		{KindTypedef, 2, "type"},
		{KindTypeTag, 2, "type"},
		{KindFunc, 2, "type"},
		{KindVar, 2, "type"},
		{KindVar, 3, "word 3"},
		{KindDeclTag, 2, "type"},
		{KindArray, 2, "word 2"},
		{KindArray, 3, "elem type"},
		{KindArray, 4, "index_type"},
		{KindArray, 5, "word 5"},
		{KindStruct, 3, "member 0 name_off"},
		{KindStruct, 4, "member 0 type"},
		{KindStruct, 5, "word 5"},
		{KindUnion, 7, "member 1 type"},
		{KindFuncProto, 2, "return type"},
		{KindFuncProto, 3, "param 0 name_off"},
		{KindFuncProto, 6, "param 1 type"},
		{KindDatasec, 3, "var_secinfo 0 type"},
		{KindDatasec, 6, "var_secinfo 1 type"},
		{KindDatasec, 7, "word 7"},
		{KindEnum, 5, "enumerator 1 name_off"},
		{KindEnum, 6, "word 6"},
		{KindEnum64, 6, "enumerator 1 name_off"},
	} {
		if got := FieldName(tc.kind, tc.w); got != tc.want {
			t.Errorf("%s word %d: %q, want %q", tc.kind, tc.w, got, tc.want)
		}
	}
}
