package kernels

import (
	"os"
	"path/filepath"

	"github.com/btfrecon/btfrecon/vmimages"
)

// Listed is one kernel of the catalogs and what the cache holds of it.
type Listed struct {
	Set    vmimages.Set
	Pinned bool // in the embedded catalog; else resolved
	// Extracted and Debs are the kinds whose package is extracted, and
	// whose verified .deb is kept, in the set's order.
	Extracted, Debs []vmimages.Kind
	// BTF is the size of the cached raw vmlinux BTF, 0 if not cached.
	BTF int64
}

// Bootable reports whether every boot package is extracted (Open works).
func (l Listed) Bootable() bool {
	have := map[vmimages.Kind]bool{}
	for _, k := range l.Extracted {
		have[k] = true
	}
	for _, e := range l.Set.Boot() {
		if !have[e.Kind] {
			return false
		}
	}
	return true
}

// List returns every pinned kernel, then every resolved one, with what the
// cache holds of each. It never touches the network.
func (f *Fetcher) List() ([]Listed, error) {
	root, err := f.cacheDir()
	if err != nil {
		return nil, err
	}
	resolved, err := LoadResolved(root)
	if err != nil {
		return nil, err
	}
	pinned := vmimages.Pinned()
	var out []Listed
	for _, c := range []*vmimages.Catalog{pinned, resolved} {
		for _, set := range c.Sets() {
			if c == resolved && pinned.Has(set.Release, set.Arch) {
				continue // the pinned lines win
			}
			l := Listed{Set: set, Pinned: c == pinned}
			for _, e := range set.Entries {
				if Extracted(root, e) {
					l.Extracted = append(l.Extracted, e.Kind)
				}
				if _, err := os.Stat(filepath.Join(root, "debs", e.DebFile())); err == nil {
					l.Debs = append(l.Debs, e.Kind)
				}
			}
			if st, err := os.Stat(btfPath(root, set.Release, set.Arch)); err == nil {
				l.BTF = st.Size()
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// CacheRoot is the cache directory the Fetcher uses (created if needed).
func (f *Fetcher) CacheRoot() (string, error) { return f.cacheDir() }
