//go:build unix

package btffile

import (
	"os"
	"syscall"
)

// readFile returns path's contents. A regular file is mapped, not read:
// private and writable (copy-on-write, never written back), so the pages
// come from the page cache without a copy, and only those touched count.
// The mapping is never unmapped: a File and what is decoded from it alias
// it for the life of the process, which for the CLI is one verb. Anything
// that cannot be mapped (a pipe, a sysfs file, an empty file) is read.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if size := st.Size(); st.Mode().IsRegular() && size > 0 && size == int64(int(size)) {
		b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
		if err == nil {
			return b, nil
		}
	}
	return os.ReadFile(path)
}
