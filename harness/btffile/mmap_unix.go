//go:build unix

package btffile

import (
	"os"
	"syscall"
)

// readFile returns path's contents. A regular file is mapped, not read:
// private and writable (copy-on-write, never written back), so the pages
// come from the page cache without a copy, and only those touched count.
// A File and what is decoded from it alias the mapping; release unmaps it
// once nothing does. Anything that cannot be mapped (a pipe, a sysfs file,
// an empty file) is read, and release does nothing.
func readFile(path string) (data []byte, release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if size := st.Size(); st.Mode().IsRegular() && size > 0 && size == int64(int(size)) {
		b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
		if err == nil {
			return b, func() { syscall.Munmap(b) }, nil
		}
	}
	b, err := os.ReadFile(path)
	return b, func() {}, err
}
