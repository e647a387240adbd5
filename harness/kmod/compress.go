package kmod

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"

	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// MaxImage bounds a decompressed module. The largest Debian 6.12 module
// (amdgpu) is about 40 MiB; anything near this is a decompression bomb, not
// a module.
const MaxImage = 256 << 20

var (
	xzMagic   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
	gzipMagic = []byte{0x1f, 0x8b}
	elfMagic  = []byte(elf.ELFMAG)
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
	out, err = xzReference(b, file)
	return out, true, err
}

// xzReference decompresses an xz stream with github.com/ulikunitz/xz.
func xzReference(b []byte, file string) ([]byte, error) {
	// DictCap is a floor, not a cap: the smallest one lets the stream's own
	// dictionary size (1 MiB for kbuild's xz) decide, instead of 8 MiB a call.
	r, err := xz.ReaderConfig{DictCap: lzma.MinDictCap}.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", file, ErrXZ, err)
	}
	// The ELF magic first: a bomb of anything else stops after four bytes.
	head := make([]byte, len(elfMagic))
	if n, err := io.ReadFull(r, head); err != nil {
		return nil, fmt.Errorf("%s: %w after %d decompressed bytes: %w", file, ErrXZ, n, err)
	}
	if !bytes.Equal(head, elfMagic) {
		return nil, fmt.Errorf("%s: xz stream holds %x..., not an ELF image: %w", file, head, ErrNotELF)
	}
	buf := bytes.NewBuffer(make([]byte, 0, 4*len(b))) // xz: about 4:1 on modules
	buf.Write(head)
	_, err = buf.ReadFrom(io.LimitReader(r, MaxImage+1-int64(len(head))))
	out := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w after %d decompressed bytes: %w", file, ErrXZ, len(out), err)
	}
	if len(out) > MaxImage {
		return nil, fmt.Errorf("%s: xz stream decompresses to more than %d MiB, the cap for a module: %w", file, MaxImage>>20, ErrTooLarge)
	}
	return out, nil
}

// CompressXZ compresses a module image the way kbuild does (`xz
// --check=crc32 --lzma2=dict=1MiB`): the kernel's own xz decoder, which
// decompresses modules in the loader, knows CRC32 but not always CRC64.
func CompressXZ(image []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := xz.WriterConfig{CheckSum: xz.CRC32, DictCap: 1 << 20}.NewWriter(&buf)
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	if _, err := w.Write(image); err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	return buf.Bytes(), nil
}
