package cache

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	for _, tc := range []struct {
		name, override, xdg, want string
	}{
		{"override wins", "OVR", "XDG", "OVR"},
		{"xdg", "", "XDG", filepath.Join("XDG", "btfrecon")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("BTFRECON_CACHE", "")
			if tc.override != "" {
				t.Setenv("BTFRECON_CACHE", filepath.Join(tmp, tc.override))
			}
			t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, tc.xdg))
			got, err := Dir()
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(tmp, tc.want); got != want {
				t.Fatalf("Dir() = %q, want %q", got, want)
			}
			if fi, err := os.Stat(got); err != nil || !fi.IsDir() {
				t.Fatalf("Dir() did not create %q: %v", got, err)
			}
		})
	}
}

func TestSub(t *testing.T) {
	t.Setenv("BTFRECON_CACHE", t.TempDir())
	p, err := Sub("a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() || filepath.Base(p) != "b" {
		t.Fatalf("Sub created %q: %v", p, err)
	}
}
