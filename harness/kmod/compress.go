package kmod

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
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

// decompress returns b unchanged unless it is an xz, zstd or gzip stream
// (the three CONFIG_MODULE_COMPRESS_* formats). The format is decided by
// content, not by file name: callers rename files.
func decompress(b []byte, file string) (out []byte, compressed bool, err error) {
	var r io.Reader
	var format string
	switch {
	case bytes.HasPrefix(b, xzMagic):
		format = "xz"
		// DictCap is a floor, not a cap: the smallest one lets the stream's
		// own dictionary size (1 MiB for kbuild's xz) decide, instead of 8 MiB.
		r, err = xz.ReaderConfig{DictCap: lzma.MinDictCap}.NewReader(bytes.NewReader(b))
	case bytes.HasPrefix(b, zstdMagic):
		format = "zstd"
		var d *zstd.Decoder
		// One goroutine, and a window of at most 32 MiB: kbuild's zstd (level
		// 3) uses 2 MiB at most; a larger one is allocated before a byte is
		// checked.
		d, err = zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(32<<20), zstd.WithDecoderMaxMemory(MaxImage+1))
		if err == nil {
			defer d.Close()
			r = d
		}
	case bytes.HasPrefix(b, gzipMagic):
		format = "gzip"
		r, err = gzip.NewReader(bytes.NewReader(b))
	default:
		return b, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w: %w", file, errFormat(format), err)
	}
	out, err = inflate(r, len(b), format, file)
	return out, true, err
}

// errFormat is the sentinel for a stream of format that does not decode.
func errFormat(format string) error {
	switch format {
	case "xz":
		return ErrXZ
	case "zstd":
		return ErrZstd
	}
	return ErrGzip
}

// inflate reads a module image out of r, the ELF magic first (a bomb of
// anything else stops after four bytes), at most MaxImage bytes.
func inflate(r io.Reader, packed int, format, file string) ([]byte, error) {
	bad := errFormat(format)
	head := make([]byte, len(elfMagic))
	if n, err := io.ReadFull(r, head); err != nil {
		return nil, fmt.Errorf("%s: %w after %d decompressed bytes: %w", file, bad, n, err)
	}
	if !bytes.Equal(head, elfMagic) {
		return nil, fmt.Errorf("%s: %s stream holds %x..., not an ELF image: %w", file, format, head, ErrNotELF)
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(4*packed, MaxImage+1))) // about 4:1 on modules
	buf.Write(head)
	_, err := buf.ReadFrom(io.LimitReader(r, MaxImage+1-int64(len(head))))
	out := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w after %d decompressed bytes: %w", file, bad, len(out), err)
	}
	if len(out) > MaxImage {
		return nil, fmt.Errorf("%s: %s stream decompresses to more than %d MiB, the cap for a module: %w", file, format, MaxImage>>20, ErrTooLarge)
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
