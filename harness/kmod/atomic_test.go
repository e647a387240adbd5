package kmod

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.ko")

	if err := WriteFileAtomic(path, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("second"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "second" {
		t.Errorf("content %q, %v", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 regardless of umask", fi.Mode().Perm())
	}
	assertOnly(t, dir, "m.ko")
}

func TestWriteFileAtomicRelative(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := WriteFileAtomic("rel.ko", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile("rel.ko"); string(got) != "x" {
		t.Errorf("content %q", got)
	}
}

func TestWriteFileAtomicFailures(t *testing.T) {
	dir := t.TempDir()
	// The rename fails: the target is a non-empty directory.
	target := filepath.Join(dir, "busy")
	if err := os.MkdirAll(filepath.Join(target, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteFileAtomic(target, []byte("data"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "kmod: write "+target) || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("rename over a directory: %v (want the target named, no temporary file)", err)
	}
	if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
		t.Errorf("target changed: %v %v", fi, err)
	}
	assertOnly(t, dir, "busy")

	// The directory does not exist: nothing created anywhere.
	missing := filepath.Join(dir, "no", "such", "m.ko")
	if err := WriteFileAtomic(missing, []byte("data"), 0o644); err == nil || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("missing directory: %v (want an error naming no temporary file)", err)
	}
	assertOnly(t, dir, "busy")
}

// assertOnly fails unless dir holds exactly the names given: no temp files.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}
