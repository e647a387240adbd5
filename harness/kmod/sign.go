package kmod

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// An appended module signature, as scripts/sign-file writes it and the
// kernel's module loader strips it:
//
//	ELF image | signature (sig_len bytes) | struct module_signature (12) | trailer
//
// struct module_signature ends with sig_len, a big-endian u32, whatever the
// byte order of the ELF image.
const (
	sigTrailer  = "~Module signature appended~\n"
	sigInfoSize = 12
)

// splitSignature returns the ELF image and the appended signature block
// (signature, info struct and trailer; nil when unsigned).
func splitSignature(b []byte, file string) (image, sig []byte, err error) {
	if !bytes.HasSuffix(b, []byte(sigTrailer)) {
		return b, nil, nil
	}
	trailerAt := len(b) - len(sigTrailer)
	if trailerAt < sigInfoSize {
		return nil, nil, fmt.Errorf("%s: signature trailer at offset %#x leaves no room for the %d-byte signature info: %w",
			file, trailerAt, sigInfoSize, ErrTruncated)
	}
	infoAt := trailerAt - sigInfoSize
	sigLen := uint64(binary.BigEndian.Uint32(b[infoAt+8:]))
	if sigLen > uint64(infoAt) {
		return nil, nil, fmt.Errorf("%s: signature info at offset %#x claims a %d-byte signature, only %d bytes precede it: %w",
			file, infoAt, sigLen, infoAt, ErrTruncated)
	}
	end := infoAt - int(sigLen)
	return b[:end:end], b[end:], nil
}
