package upstream

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestViews(t *testing.T) {
	v, err := ReadValidate("testdata/patched/validate.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		make []string // files made under the kbuild dir
		ok   bool
	}{
		{"both views", []string{"validate/1a2b3c4d5e6f-6f5e4d3c2b1a/A/vmlinux", "validate/1a2b3c4d5e6f-6f5e4d3c2b1a/B/vmlinux"}, true},
		{"B missing", []string{"validate/1a2b3c4d5e6f-6f5e4d3c2b1a/A/vmlinux"}, false},
		{"another pair's views", []string{"validate/6f5e4d3c2b1a-1a2b3c4d5e6f/A/vmlinux", "validate/6f5e4d3c2b1a-1a2b3c4d5e6f/B/vmlinux"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kb := t.TempDir()
			for _, f := range tc.make {
				p := filepath.Join(kb, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			a, b, err := Views(kb, v)
			if !tc.ok {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("views %q %q, err %v; want not found", a, b, err)
				}
				return
			}
			want := filepath.Join(kb, "validate", "1a2b3c4d5e6f-6f5e4d3c2b1a")
			if err != nil || a != filepath.Join(want, "A") || b != filepath.Join(want, "B") {
				t.Fatalf("views %q %q, err %v; want %s/{A,B}", a, b, err, want)
			}
		})
	}
}
