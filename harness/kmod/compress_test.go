package kmod

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"testing"
	"unsafe"

	"github.com/btfrecon/btfrecon/harness/internal/realdata"
)

func damage(b []byte, at int) []byte {
	c := bytes.Clone(b)
	c[at] ^= 0x40
	return c
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// xzWrap puts LZMA2 data that decodes to data into a one-block xz stream
// with a CRC32 check, a 1 MiB dictionary, the index and footer.
func xzWrap(lz, data []byte) []byte {
	le := binary.LittleEndian
	flags := []byte{0, 1}
	b := append(bytes.Clone(xzMagic), flags...)
	b = le.AppendUint32(b, crc32.ChecksumIEEE(flags))
	bh := []byte{2, 0, 0x21, 1, 16, 0, 0, 0} // 12 bytes with the CRC
	bh = le.AppendUint32(bh, crc32.ChecksumIEEE(bh))
	b = append(append(b, bh...), lz...)
	for (len(b)-12)%4 != 0 {
		b = append(b, 0)
	}
	b = le.AppendUint32(b, crc32.ChecksumIEEE(data))
	idx := binary.AppendUvarint([]byte{0, 1}, uint64(len(bh)+len(lz)+4))
	idx = binary.AppendUvarint(idx, uint64(len(data)))
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = le.AppendUint32(idx, crc32.ChecksumIEEE(idx))
	b = append(b, idx...)
	foot := le.AppendUint32(nil, uint32(len(idx)/4-1))
	foot = append(foot, flags...)
	b = le.AppendUint32(b, crc32.ChecksumIEEE(foot))
	return append(append(b, foot...), 'Y', 'Z')
}

func largeModule(tb testing.TB) string {
	tb.Helper()
	p, err := realdata.Kernel(tb, "6.12.107", "amd64").Module("amdgpu")
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// BenchmarkDecompressLarge decompresses amdgpu.ko.xz (4 MB, 29 MB
// inflated).
func BenchmarkDecompressLarge(b *testing.B) {
	path := largeModule(b)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		f    func() ([]byte, error)
	}{
		{"decompress", func() ([]byte, error) { out, _, err := decompress(data, path); return out, err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				out, err := bc.f()
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.SetBytes(int64(n))
		})
	}
}

// TestBTFView: the views are the sections BTF and BTFBase copy, inside the
// image (decompressed or as given), with no room to grow into it.
func TestBTFView(t *testing.T) {
	for _, file := range []string{"tiny-x86_64.ko", "tiny-x86_64-signed.ko.xz"} {
		data := readTestdata(t, file)
		m, err := Parse(data, file)
		if err != nil {
			t.Fatal(err)
		}
		img := m.image
		for _, s := range []struct {
			view, copy func() ([]byte, bool)
		}{{m.BTFView, m.BTF}, {m.BTFBaseView, m.BTFBase}} {
			v, vok := s.view()
			c, cok := s.copy()
			if vok != cok || !bytes.Equal(v, c) || cap(v) != len(v) {
				t.Fatalf("%s: view %d bytes (%v), copy %d bytes (%v)", file, len(v), vok, len(c), cok)
			}
			if len(v) > 0 {
				start := uintptr(unsafe.Pointer(&img[0]))
				at := uintptr(unsafe.Pointer(&v[0]))
				if at < start || at+uintptr(len(v)) > start+uintptr(len(img)) {
					t.Fatalf("%s: view is not inside the image", file)
				}
				if &c[0] == &v[0] {
					t.Fatalf("%s: the copy is the view", file)
				}
			}
		}
	}
}
