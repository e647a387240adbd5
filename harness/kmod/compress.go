package kmod

import (
	"bytes"
	"fmt"
	"io"

	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// maxImage bounds a decompressed module. The largest Debian 6.12 modules are
// tens of MB; anything near this is a decompression bomb, not a module.
const maxImage = 1 << 30

var (
	xzMagic   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
	gzipMagic = []byte{0x1f, 0x8b}
)

// decompress returns b unchanged unless it is an xz stream. The format is
// decided by content, not by file name: callers rename files.
func decompress(b []byte, file string) (out []byte, compressed bool, err error) {
	switch {
	case bytes.HasPrefix(b, xzMagic):
	case bytes.HasPrefix(b, zstdMagic):
		return nil, false, fmt.Errorf("%s: zstd-compressed module: %w (only xz)", file, ErrUnsupported)
	case bytes.HasPrefix(b, gzipMagic):
		return nil, false, fmt.Errorf("%s: gzip-compressed module: %w (only xz)", file, ErrUnsupported)
	default:
		return b, false, nil
	}
	// DictCap is a floor, not a cap: the smallest one lets the stream's own
	// dictionary size (1 MiB for kbuild's xz) decide, instead of 8 MiB a call.
	r, err := xz.ReaderConfig{DictCap: lzma.MinDictCap}.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w: %w", file, ErrXZ, err)
	}
	out, err = io.ReadAll(io.LimitReader(r, maxImage+1))
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w after %d decompressed bytes: %w", file, ErrXZ, len(out), err)
	}
	if len(out) > maxImage {
		return nil, true, fmt.Errorf("%s: xz stream decompresses to more than %d bytes: %w", file, maxImage, ErrTooLarge)
	}
	return out, true, nil
}
