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
