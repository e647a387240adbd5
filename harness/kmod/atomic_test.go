package kmod

import (
	"errors"
	"io"
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

// TestWriteAtomic: what write streams replaces the file; a write that fails
// part way leaves the old file as it was and no temporary file, its error
// wrapped.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.btf")
	if err := WriteFileAtomic(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	errFull := errors.New("disk full")
	err := WriteAtomic(path, 0o644, func(w io.Writer) error {
		w.Write([]byte("half of the n"))
		return errFull
	})
	if !errors.Is(err, errFull) || !strings.Contains(err.Error(), "kmod: write "+path) {
		t.Errorf("failed write: %v, want %v wrapped, naming %s", err, errFull, path)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("after a failed write the file holds %q, want \"old\"", got)
	}
	assertOnly(t, dir, "r.btf")
	err = WriteAtomic(path, 0o600, func(w io.Writer) error {
		for _, p := range []string{"new ", "in ", "pieces"} {
			if _, err := io.WriteString(w, p); err != nil {
				return err
			}
		}
		return nil
	})
	if got, _ := os.ReadFile(path); err != nil || string(got) != "new in pieces" {
		t.Errorf("streamed write: %q, %v", got, err)
	}
	assertOnly(t, dir, "r.btf")
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
