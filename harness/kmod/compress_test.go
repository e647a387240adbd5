package kmod

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/klauspost/compress/zstd"

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

// TestDecompressFormats: a module compressed by zstd and gzip as kbuild
// runs them (testdata/gen.sh) parses to the uncompressed module's bytes.
func TestDecompressFormats(t *testing.T) {
	want := readTestdata(t, "tiny-x86_64.ko")
	for _, file := range []string{"tiny-x86_64.ko.zst", "tiny-x86_64.ko.gz"} {
		t.Run(file, func(t *testing.T) {
			m, err := Parse(readTestdata(t, file), file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m.image, want) {
				t.Errorf("decompressed %d bytes, not tiny-x86_64.ko's %d", len(m.image), len(want))
			}
		})
	}
}

// TestDecompressBombs: each format stops at the first bytes of a stream
// that is not an ELF image, stops at MaxImage for one that is, and names
// the file and the format in a bad stream's error.
func TestDecompressBombs(t *testing.T) {
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	zst := func(b []byte) []byte {
		w, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		return w.EncodeAll(b, nil)
	}
	huge := append([]byte(elf.ELFMAG), make([]byte, MaxImage)...)
	for _, tc := range []struct {
		name string
		data []byte
		err  error
		msg  string
	}{
		{"zstd zeros", zst(make([]byte, 64<<20)), ErrNotELF, "bomb: zstd stream holds 00000000..., not an ELF image"},
		{"gzip zeros", gz(make([]byte, 64<<20)), ErrNotELF, "bomb: gzip stream holds 00000000..., not an ELF image"},
		{"zstd past the cap", zst(huge), ErrTooLarge, "bomb: zstd stream decompresses to more than 256 MiB"},
		{"gzip past the cap", gz(huge), ErrTooLarge, "bomb: gzip stream decompresses to more than 256 MiB"},
		{"bad zstd", append(bytes.Clone(zstdMagic), "garbage garbage"...), ErrZstd, "bomb: bad zstd data"},
		{"truncated gzip", gz(readTestdata(t, "tiny-x86_64.ko"))[:100], ErrGzip, "bomb: bad gzip data after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data, "bomb")
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v\nwant %v containing %q", err, tc.err, tc.msg)
			}
		})
	}
}
