package kmod

import "errors"

// Sentinel errors. Every error this package returns wraps one of them (test
// with errors.Is) and names the file and, where there is one, the byte offset.
var (
	// ErrNotELF: the input is neither an ELF image nor xz-compressed ELF.
	ErrNotELF = errors.New("not an ELF file")
	// ErrTruncated: something the headers point at lies past the end of the data.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed: the headers contradict themselves (bad index, bad entry
	// size, duplicate BTF section, ...).
	ErrMalformed = errors.New("malformed ELF")
	// ErrXZ: the xz stream could not be decoded.
	ErrXZ = errors.New("bad xz data")
	// ErrZstd: the zstd stream could not be decoded.
	ErrZstd = errors.New("bad zstd data")
	// ErrGzip: the gzip stream could not be decoded.
	ErrGzip = errors.New("bad gzip data")
	// ErrTooLarge: a size is beyond what we are willing to allocate or encode.
	ErrTooLarge = errors.New("too large")
	// ErrNoBTF: the operation needs a .BTF section and there is none.
	ErrNoBTF = errors.New("no .BTF section")
	// ErrUnsupported: a valid ELF file the rewriter deliberately does not handle
	// (program headers, relocations against a replaced section, ...).
	ErrUnsupported = errors.New("unsupported")
)
