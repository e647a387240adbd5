// Package cache names the one directory where btfrecon keeps downloads and
// builds: $XDG_CACHE_HOME/btfrecon (or $HOME/.cache/btfrecon). Nothing in it
// is ever required to exist: every user re-creates what it misses.
package cache

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dir returns the cache directory, creating it if needed. BTFRECON_CACHE
// overrides the default, for tests and CI that want a scratch location.
func Dir() (string, error) {
	dir := os.Getenv("BTFRECON_CACHE")
	if dir == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("cache dir: no XDG_CACHE_HOME and no home directory: %w", err)
			}
			base = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(base, "btfrecon")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cache dir: %w", err)
	}
	return dir, nil
}

// Sub returns a subdirectory of the cache directory, creating it if needed.
func Sub(elem ...string) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(append([]string{dir}, elem...)...)
	if err := os.MkdirAll(p, 0o755); err != nil {
		return "", fmt.Errorf("cache dir: %w", err)
	}
	return p, nil
}
