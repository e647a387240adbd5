//go:build !unix

package btffile

import "os"

// readFile reads path (see the unix version, which maps it).
func readFile(path string) (data []byte, release func(), err error) {
	b, err := os.ReadFile(path)
	return b, func() {}, err
}
