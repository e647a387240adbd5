package cache

import (
	"fmt"
	"os"
	"syscall"
)

// Lock takes an exclusive flock on path (created if missing), waiting for
// it: one builder at a time in a cache entry shared by processes. The
// returned func releases it; the kernel also drops it when the process ends.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
