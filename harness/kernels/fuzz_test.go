package kernels

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// FuzzExtractVmlinuxBTF: the vmlinuz decoders (bzImage + zstd, gzip, xz,
// ELF, raw Image scan) never panic, and what they return is a whole BTF
// blob: a header whose sections account for every byte.
func FuzzExtractVmlinuxBTF(f *testing.F) {
	blob := []byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}
	f.Add(append([]byte("garbage before"), blob...))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0})
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := ExtractVmlinuxBTF(data, "fuzz")
		if err != nil {
			return
		}
		if len(out) < 24 {
			t.Fatalf("%d-byte blob", len(out))
		}
		bo := binary.ByteOrder(binary.LittleEndian)
		if out[0] == 0xeb {
			bo = binary.BigEndian
		}
		hdr, tl, sl := bo.Uint32(out[4:]), bo.Uint32(out[12:]), bo.Uint32(out[20:])
		if uint64(hdr)+uint64(tl)+uint64(sl) != uint64(len(out)) {
			t.Fatalf("blob of %d bytes, header says %d+%d+%d", len(out), hdr, tl, sl)
		}
	})
}

// FuzzParseIndex: any text parses or is refused with ErrIndex, never a
// panic; what is accepted has every field resolution relies on, and
// written back as stanzas parses to the same entries.
func FuzzParseIndex(f *testing.F) {
	for _, name := range []string{"bookworm-6.12.111-amd64.show", "sid-7.2.13-amd64.show"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte("Package: p\n x\n\nPackage: q\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseIndex("fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrIndex) {
				t.Fatalf("error does not wrap ErrIndex: %v", err)
			}
			return
		}
		var b strings.Builder
		for _, e := range got {
			if e.Package == "" || e.Version == "" || e.Architecture == "" || len(e.SHA256) != 64 || e.Size <= 0 || e.Line < 1 {
				t.Fatalf("accepted an incomplete entry: %+v", e)
			}
			fmt.Fprintf(&b, "Package: %s\nVersion: %s\nArchitecture: %s\nFilename: %s\nSHA256: %s\nSize: %d\n\n", e.Package, e.Version, e.Architecture, strings.ReplaceAll(e.Filename, "\n", "\n "), e.SHA256, e.Size)
		}
		again, err := ParseIndex("again", []byte(b.String()))
		if err != nil || len(again) != len(got) {
			t.Fatalf("written back: %d entries, %v (had %d)", len(again), err, len(got))
		}
		for i := range got {
			again[i].Line = got[i].Line
			if again[i] != got[i] {
				t.Fatalf("entry %d: %+v, written back %+v", i, got[i], again[i])
			}
		}
	})
}
