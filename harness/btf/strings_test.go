package btf

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"
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

// TestStringTableMany holds the table against a map over enough strings to
// grow its index many times: prefixes of one another, repeats, embedded
// NULs, the empty string; offsets, contents and lookups agree. Grown
// first (to the 7000-odd strings' 60 KB, or to less, or midway), the table
// holds the same; grown enough, it never reallocates.
func TestStringTableMany(t *testing.T) {
	type grow struct{ at, bytes, n int }
	for _, tc := range []struct {
		withEmpty bool
		grow      []grow
	}{
		{true, nil}, {false, nil},
		{true, []grow{{0, 64 << 10, 8000}}}, {false, []grow{{0, 100, 10}, {5000, 1 << 10, 3000}}},
	} {
		withEmpty := tc.withEmpty
		st := NewStringTable(withEmpty)
		var buf0 *byte
		var slots0 int
		model := map[string]uint32{}
		var buf []byte
		if withEmpty {
			model[""] = 0
			buf = append(buf, 0)
		}
		for i := range 20000 {
			for _, g := range tc.grow {
				if g.at == i {
					st.Grow(g.bytes, g.n)
					buf0, slots0 = unsafe.SliceData(st.buf[:1]), len(st.slots)
				}
			}
			s := fmt.Sprintf("name_%d", i%7000)
			s = s[:min(len(s), 1+i%12)]
			if i%97 == 0 {
				s = "a\x00" + s
			}
			if i%1013 == 0 {
				s = ""
			}
			want, ok := model[s]
			if !ok {
				want = uint32(len(buf))
				model[s] = want
				buf = append(append(buf, s...), 0)
			}
			var got uint32
			if i%2 == 0 {
				got = st.Add(s)
			} else {
				got = st.AddBytes([]byte(s))
			}
			if got != want {
				t.Fatalf("add %d (%q): offset %d, want %d", i, s, got, want)
			}
		}
		if !bytes.Equal(st.Bytes(), buf) {
			t.Fatal("table contents differ from the model's")
		}
		if len(tc.grow) == 1 && (unsafe.SliceData(st.buf) != buf0 || len(st.slots) != slots0) {
			t.Fatalf("grown for %d bytes and %d strings, the table reallocated for %d and %d", tc.grow[0].bytes, tc.grow[0].n, len(st.buf), st.n)
		}
		for s, off := range model {
			if got, ok := st.Lookup([]byte(s)); !ok || got != off {
				t.Fatalf("Lookup(%q) = %d, %v; want %d", s, got, ok, off)
			}
		}
		for _, s := range []string{"name_12345", "nam\x00", "a\x00", "x"} {
			if _, in := model[s]; in {
				t.Fatalf("%q was added", s)
			}
			if _, ok := st.Lookup([]byte(s)); ok {
				t.Fatalf("Lookup(%q) found a string never added", s)
			}
		}
	}
}

// BenchmarkStringTable adds 50k names, a third of them repeats, as the
// distiller builds amdgpu's new split.
func BenchmarkStringTable(b *testing.B) {
	names := make([][]byte, 50000)
	for i := range names {
		names[i] = []byte(fmt.Sprintf("amdgpu_dm_field_%d", i*2/3))
	}
	b.ReportAllocs()
	for b.Loop() {
		st := NewStringTable(false)
		for _, n := range names {
			st.AddBytes(n)
		}
	}
}
