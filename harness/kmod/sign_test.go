package kmod

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestSplitSignature(t *testing.T) {
	img := []byte("\x7fELF image bytes")
	block := func(sig string, sigLen uint32) []byte {
		info := make([]byte, sigInfoSize)
		info[2] = 2 // PKEY_ID_PKCS7
		binary.BigEndian.PutUint32(info[8:], sigLen)
		return append(append([]byte(sig), info...), sigTrailer...)
	}
	for _, tc := range []struct {
		name    string
		in      []byte
		wantImg []byte
		wantSig []byte
		msg     string
	}{
		{"unsigned", img, img, nil, ""},
		{"trailer without newline is no trailer", append(bytes.Clone(img), sigTrailer[:len(sigTrailer)-1]...),
			append(bytes.Clone(img), sigTrailer[:len(sigTrailer)-1]...), nil, ""},
		{"signed", append(bytes.Clone(img), block("SIGNATURE", 9)...), img, block("SIGNATURE", 9), ""},
		{"empty signature", append(bytes.Clone(img), block("", 0)...), img, block("", 0), ""},
		{"signature is whole file", block("ALL", 3), []byte{}, block("ALL", 3), ""},
		{"sig_len too long", append(bytes.Clone(img), block("SIG", 100)...), nil, nil,
			"f.ko: signature info at offset 0x13 claims a 100-byte signature, only 19 bytes precede it"},
		{"sig_len 2^32-1", block("SIG", 0xffffffff), nil, nil, "claims a 4294967295-byte signature"},
		{"no room for info", []byte("0123456789" + sigTrailer), nil, nil,
			"f.ko: signature trailer at offset 0xa leaves no room for the 12-byte signature info"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gotImg, gotSig, err := splitSignature(tc.in, "f.ko")
			if tc.msg != "" {
				if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("got %v, want ErrTruncated with %q", err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotImg, tc.wantImg) || !bytes.Equal(gotSig, tc.wantSig) || (tc.wantSig == nil) != (gotSig == nil) {
				t.Errorf("got %q + %q, want %q + %q", gotImg, gotSig, tc.wantImg, tc.wantSig)
			}
			// The image must not share capacity with the signature: appending
			// to it would overwrite the signature.
			if gotSig != nil && cap(gotImg) != len(gotImg) {
				t.Errorf("image capacity %d > length %d", cap(gotImg), len(gotImg))
			}
		})
	}
}
