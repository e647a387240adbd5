package kbuild

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealBuild builds a real kernel pair when BTFRECON_KBUILD_TREE names
// a tree (make validate-kbuild): the first from scratch or cache, the
// second (BTFRECON_KBUILD_OTHER added) from a copy of the first's objects.
// Expected: both vmlinux carry .BTF, and their BTF differs (the second
// fragment adds types), so ids and string offsets move.
func TestRealBuild(t *testing.T) {
	tree := os.Getenv("BTFRECON_KBUILD_TREE")
	if tree == "" {
		t.Skip("BTFRECON_KBUILD_TREE not set (a kernel tree or linux-source tarball)")
	}
	cache := os.Getenv("BTFRECON_KBUILD_CACHE")
	if cache == "" {
		t.Fatal("BTFRECON_KBUILD_CACHE not set")
	}
	arch := os.Getenv("BTFRECON_KBUILD_ARCH")
	if arch == "" {
		arch = "amd64"
	}
	frags := strings.Split(os.Getenv("BTFRECON_KBUILD_FRAGMENTS"), ":")
	var patches []string
	if p := os.Getenv("BTFRECON_KBUILD_PATCHES"); p != "" {
		patches = strings.Split(p, ":")
	}
	bl := &Builder{Cache: cache, Progress: testWriter{t}}
	spec := Spec{Tree: tree, Patches: patches, Arch: arch, Fragments: frags,
		Pahole: os.Getenv("BTFRECON_KBUILD_PAHOLE"), Name: "A", ConfigOnly: os.Getenv("BTFRECON_KBUILD_CONFIG_ONLY") != ""}
	a, err := bl.Build(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("A: %s in %.1f s (cached %v)", a.Dir, a.Seconds, a.Cached)
	if spec.ConfigOnly {
		return
	}
	btfA := vmlinuxBTF(t, filepath.Join(a.Dir, "vmlinux"))
	other := os.Getenv("BTFRECON_KBUILD_OTHER")
	if other == "" {
		return
	}
	spec.Fragments = append(append([]string{}, frags...), other)
	spec.Name = "other"
	b, err := bl.Build(context.Background(), spec, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("other: %s in %.1f s (cached %v, seed %s)", b.Dir, b.Seconds, b.Cached, b.Seed)
	btfB := vmlinuxBTF(t, filepath.Join(b.Dir, "vmlinux"))
	if bytes.Equal(btfA, btfB) {
		t.Errorf("the two vmlinux BTFs are identical (%d bytes): the other fragment added no types", len(btfA))
	}
	t.Logf("vmlinux BTF: A %d bytes, other %d bytes", len(btfA), len(btfB))
}

func vmlinuxBTF(t *testing.T, path string) []byte {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".BTF")
	if s == nil {
		t.Fatalf("%s has no .BTF", path)
	}
	b, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestRealPrepare only extracts, patches and hashes the tree of
// TestRealBuild (light work, before a build waits for the CPU).
func TestRealPrepare(t *testing.T) {
	tree := os.Getenv("BTFRECON_KBUILD_TREE")
	if tree == "" || os.Getenv("BTFRECON_KBUILD_CACHE") == "" {
		t.Skip("BTFRECON_KBUILD_TREE or BTFRECON_KBUILD_CACHE not set")
	}
	var patches []string
	if p := os.Getenv("BTFRECON_KBUILD_PATCHES"); p != "" {
		patches = strings.Split(p, ":")
	}
	bl := &Builder{Cache: os.Getenv("BTFRECON_KBUILD_CACHE"), Progress: testWriter{t}}
	tr, b, err := bl.Prepare(Spec{Tree: tree, Patches: patches, Arch: "amd64",
		Pahole: os.Getenv("BTFRECON_KBUILD_PAHOLE")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tree %s (Linux %s), source %s, key %s", tr.Dir, tr.Version, b.Src, b.Key)
}
