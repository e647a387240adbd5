package kmod

import (
	"bytes"
	"os"
	"testing"
	"unsafe"

	"github.com/btfrecon/btfrecon/harness/internal/realdata"
)

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
