package corpus

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadPack: a damaged pack file is refused, never a panic (and never a
// huge allocation from a forged count or length: lengths are read as far
// as the file goes).
func FuzzReadPack(f *testing.F) {
	dir := f.TempDir()
	p := filepath.Join(dir, "seed")
	if err := writePack(p, []Module{{"a", "kernel/a.ko.xz", []byte{1, 2, 3}}}); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(p)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "pack")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		readPack(p)
	})
}
