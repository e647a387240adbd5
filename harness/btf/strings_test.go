package btf

import (
	"bytes"
	"testing"
)

func TestStringTable(t *testing.T) {
	for _, tc := range []struct {
		name      string
		withEmpty bool
		add       []string
		offs      []uint32
		bytes     string
	}{
		{"standalone starts with the empty string", true, []string{"a", "bc", "a", ""}, []uint32{1, 3, 1, 0}, "\x00a\x00bc\x00"},
		{"split has no leading empty string", false, []string{"a", "bc", "a"}, []uint32{0, 2, 0}, "a\x00bc\x00"},
		{"a split's empty string is added like any other", false, []string{"", "x"}, []uint32{0, 1}, "\x00x\x00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := NewStringTable(tc.withEmpty)
			for i, s := range tc.add {
				if got := st.Add(s); got != tc.offs[i] {
					t.Fatalf("Add(%q) = %d, want %d", s, got, tc.offs[i])
				}
			}
			if !bytes.Equal(st.Bytes(), []byte(tc.bytes)) || st.Len() != len(tc.bytes) {
				t.Fatalf("table %q, want %q", st.Bytes(), tc.bytes)
			}
			second := tc.add[1]
			if off, ok := st.Lookup([]byte(second)); !ok || off != tc.offs[1] {
				t.Fatalf("Lookup(%q) = %d, %v", second, off, ok)
			}
			if _, ok := st.Lookup([]byte("b")); ok {
				t.Fatal("Lookup found a substring")
			}
			if got := st.AddBytes([]byte(second)); got != tc.offs[1] || st.Len() != len(tc.bytes) {
				t.Fatalf("AddBytes(%q) = %d, table now %d bytes", second, got, st.Len())
			}
		})
	}
}
