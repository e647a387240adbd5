package kernels

import (
	"encoding/binary"
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
