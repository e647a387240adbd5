package kbuild

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// age sets every file's mtime into the past so the stat cache trusts it.
func age(t *testing.T, dir string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
}

func TestHashTree(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	files := map[string]string{"Makefile": "VERSION = 7\n", "kernel/bpf/btf.c": "int x;\n", ".git/HEAD": "ref"}
	writeTree(t, a, files)
	writeTree(t, b, files)
	os.WriteFile(filepath.Join(b, ".git/HEAD"), []byte("other"), 0o644) // .git is not content
	age(t, a)
	cache := filepath.Join(t.TempDir(), "stat.gob")
	ha, n, err := hashTree(a, cache)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("first hash read %d files, want 2", n)
	}
	hb, _, err := hashTree(b, "")
	if err != nil {
		t.Fatal(err)
	}
	if ha != hb {
		t.Errorf("same content, different hashes %s %s", ha, hb)
	}
	// unchanged: nothing read again, same hash
	h2, n, err := hashTree(a, cache)
	if err != nil || h2 != ha || n != 0 {
		t.Errorf("warm hash = %s, read %d, %v; want %s, 0", h2, n, err, ha)
	}
	// a one-byte change with the old mtime kept: the ctime still changes
	p := filepath.Join(a, "kernel/bpf/btf.c")
	st, _ := os.Stat(p)
	os.WriteFile(p, []byte("int y;\n"), 0o644)
	os.Chtimes(p, st.ModTime(), st.ModTime())
	h3, n, err := hashTree(a, cache)
	if err != nil || h3 == ha || n != 1 {
		t.Errorf("after edit: hash %s (old %s), read %d, %v; want a new hash, 1 read", h3, ha, n, err)
	}
	// a rename is a different tree
	os.Rename(filepath.Join(b, "Makefile"), filepath.Join(b, "Makefile2"))
	if h4, _, _ := hashTree(b, ""); h4 == hb {
		t.Error("renamed file, same hash")
	}
}
