package scenario

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btfrecon/btfrecon/harness/kmod"
)

// TestOpenModuleCache: a .ko.xz is inflated once into the cache, dated as
// the source; the next open reads the inflated copy (the same image); a
// source newer than its copy is inflated again.
func TestOpenModuleCache(t *testing.T) {
	t.Setenv("BTFRECON_CACHE", t.TempDir())
	img, err := os.ReadFile("../kmod/testdata/tiny-x86_64.ko")
	if err != nil {
		t.Fatal(err)
	}
	xz, err := kmod.CompressXZ(img)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "tiny.ko.xz")
	if err := os.WriteFile(src, xz, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(src, old, old)
	m, err := openModule(src)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawPath(src)
	fi, err := os.Stat(raw)
	if err != nil || !fi.ModTime().Equal(old) {
		t.Fatalf("cached copy %s: %v, %v", raw, fi, err)
	}
	if got, _ := os.ReadFile(raw); !bytes.Equal(got, m.ELF()) {
		t.Fatal("the cached copy is not the inflated image")
	}
	// A second open reads the copy.
	m2, err := openModule(src)
	if err != nil || !bytes.Equal(m2.ELF(), m.ELF()) || m2.Name != m.Name {
		t.Fatalf("second open: %v, name %q", err, m2.Name)
	}
	// A copy that no longer parses is not trusted: inflated again.
	os.WriteFile(raw, []byte("garbage"), 0o644)
	os.Chtimes(raw, old, old)
	if m3, err := openModule(src); err != nil || !bytes.Equal(m3.ELF(), m.ELF()) {
		t.Fatalf("open over a damaged copy: %v", err)
	}
	// A newer source: inflated again, the copy redated.
	newer := old.Add(time.Hour)
	os.Chtimes(src, newer, newer)
	if _, err := openModule(src); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(raw); !fi.ModTime().Equal(newer) {
		t.Fatalf("copy dated %v after the source changed, want %v", fi.ModTime(), newer)
	}
}
