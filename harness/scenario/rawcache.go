package scenario

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// Inflating xz is most of what preparing a package's modules costs (both
// builds of each of 4,229 modules: about a minute of CPU). The images are
// kept inflated under $CACHE/vm/raw, one directory per package directory,
// each file dated as its .ko.xz: a module whose .ko.xz is newer (or gone
// from the cache) is inflated again. The cache only saves time: what is
// read from it is the same image kmod.Open gives.

// openModule opens a module file, from the inflated cache when it has a
// fresh copy.
func openModule(path string) (*kmod.Module, error) {
	if !strings.HasSuffix(path, ".xz") {
		return kmod.Open(path)
	}
	raw := rawPath(path)
	src, err := os.Stat(path)
	if err != nil || raw == "" {
		return kmod.Open(path)
	}
	if fi, err := os.Stat(raw); err == nil && fi.ModTime().Equal(src.ModTime()) {
		if data, err := os.ReadFile(raw); err == nil {
			if m, err := kmod.Parse(data, path); err == nil {
				return m, nil
			}
		}
	}
	m, err := kmod.Open(path)
	if err != nil {
		return nil, err
	}
	if err := kmod.WriteFileAtomic(raw, m.ELF(), 0o644); err == nil {
		os.Chtimes(raw, src.ModTime(), src.ModTime())
	}
	return m, nil
}

// rawPath is where the inflated image of a .ko.xz is cached ("" when the
// cache has no room).
func rawPath(path string) string {
	dir, err := cache.Sub("vm", "raw")
	if err != nil {
		return ""
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(abs))
	d := filepath.Join(dir, hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(d, 0o755); err != nil {
		return ""
	}
	return filepath.Join(d, strings.TrimSuffix(filepath.Base(path), ".xz"))
}
