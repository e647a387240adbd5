package kmod

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"unsafe"

	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// reference decompresses b with github.com/ulikunitz/xz alone, as
// decompress did before its fast path.
func reference(b []byte) ([]byte, error) {
	r, err := xz.ReaderConfig{DictCap: lzma.MinDictCap}.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// compressWith compresses data with the reference encoder.
func compressWith(tb testing.TB, data []byte, c xz.WriterConfig) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := c.NewWriter(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// elfLike is compressible data behind an ELF magic: text, repeats, noise.
func elfLike(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := append([]byte{}, elfMagic...)
	for len(b) < n {
		switch r.IntN(3) {
		case 0:
			b = append(b, "struct module_layout *mod_mem;\x00"...)
		case 1:
			if len(b) > 64 {
				at := r.IntN(len(b) - 32)
				b = append(b, b[at:at+1+r.IntN(31)]...)
			}
		default:
			for range 1 + r.IntN(16) {
				b = append(b, byte(r.Uint32()))
			}
		}
	}
	return b[:n]
}

// TestXZFast: what the reference encoder writes in every check and block
// layout decodes on the fast path, byte for byte as the reference decodes
// it; what the fast path does not take (several streams, stream padding,
// damage, not ELF) gives decompress's result from the reference decoder,
// error text included.
func TestXZFast(t *testing.T) {
	data := elfLike(3<<20, 1)
	for _, tc := range []struct {
		name string
		c    xz.WriterConfig
	}{
		{"crc32 kbuild", xz.WriterConfig{CheckSum: xz.CRC32, DictCap: 1 << 20}},
		{"crc64", xz.WriterConfig{CheckSum: xz.CRC64}},
		{"sha256", xz.WriterConfig{CheckSum: xz.SHA256}},
		{"none", xz.WriterConfig{NoCheckSum: true}},
		{"blocks", xz.WriterConfig{CheckSum: xz.CRC32, BlockSize: 300 << 10}},
		{"small dict", xz.WriterConfig{CheckSum: xz.CRC32, DictCap: 4096, Properties: &lzma.Properties{LC: 0, LP: 2, PB: 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z := compressWith(t, data, tc.c)
			out, ok := xzFast(z)
			if !ok {
				t.Fatal("fast path refused it")
			}
			if !bytes.Equal(out, data) {
				t.Fatal("fast path decodes it wrong")
			}
		})
	}

	z := compressWith(t, data, xz.WriterConfig{CheckSum: xz.CRC32, DictCap: 1 << 20})
	two := append(bytes.Clone(z), z...)
	padded := append(bytes.Clone(z), 0, 0, 0, 0)
	notELF := compressWith(t, append([]byte("MZ\x90\x00"), data[4:]...), xz.WriterConfig{CheckSum: xz.CRC32})
	for name, in := range map[string][]byte{
		"two streams": two, "stream padding": padded, "not ELF": notELF,
		"damaged": damage(z, len(z)/2), "damaged check": damage(z, len(z)-30), "damaged index": damage(z, len(z)-14),
		"truncated": z[:len(z)-1],
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok := xzFast(in); ok {
				t.Fatal("fast path took it")
			}
			got, _, gotErr := decompress(in, "x.ko.xz")
			want, wantErr := xzReference(in, "x.ko.xz")
			if !bytes.Equal(got, want) || errText(gotErr) != errText(wantErr) {
				t.Fatalf("decompress: %d bytes, %v; reference: %d bytes, %v", len(got), gotErr, len(want), wantErr)
			}
		})
	}
}

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

// FuzzXZFast: whatever the fast path accepts, the reference decoder
// accepts too, with the same bytes.
func FuzzXZFast(f *testing.F) {
	f.Add(readTestdata(f, "tiny-x86_64-signed.ko.xz"))
	for i, c := range []xz.WriterConfig{
		{CheckSum: xz.CRC32, DictCap: 1 << 20}, {CheckSum: xz.CRC64}, {NoCheckSum: true}, {CheckSum: xz.CRC32, BlockSize: 1 << 10},
	} {
		f.Add(compressWith(f, elfLike(5000, uint64(i)), c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, ok := xzFast(b)
		if !ok {
			return
		}
		want, err := reference(b)
		if err != nil {
			t.Fatalf("fast path decoded %d bytes, reference refuses: %v", len(out), err)
		}
		if !bytes.Equal(out, want) {
			t.Fatalf("fast path and reference differ (%d and %d bytes)", len(out), len(want))
		}
	})
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

// FuzzXZFastLZMA2 fuzzes the LZMA2 layer behind valid framing (CRCs and
// sizes made to fit, which a mutated file rarely has): LZMA2 data after an
// uncompressed chunk holding the ELF magic. Whatever the fast path
// decodes, the reference decodes to the same bytes.
func FuzzXZFastLZMA2(f *testing.F) {
	for i, c := range []xz.WriterConfig{
		{CheckSum: xz.CRC32, DictCap: 1 << 20}, {CheckSum: xz.CRC32, Properties: &lzma.Properties{LC: 1, LP: 3, PB: 4}},
	} {
		z := compressWith(f, elfLike(3000, uint64(i)), c)
		f.Add(z[12+(int(z[12])+1)*4:])
	}
	f.Add([]byte{0x02, 0x00, 0x01, 'x', 'y', 0x00})
	f.Fuzz(func(t *testing.T, raw []byte) {
		lz := append([]byte{0x01, 0x00, 0x03, 0x7f, 'E', 'L', 'F'}, raw...)
		var d lzma2Dec
		out := make([]byte, 1<<16) // small: the fuzzer runs many
		n, got, ok := d.decode(out, len(out), lz, 1<<20, nil, nil)
		if !ok {
			return
		}
		file := xzWrap(lz[:n], out[:got])
		fast, ok := xzFast(file)
		if !ok || !bytes.Equal(fast, out[:got]) {
			t.Fatalf("the fast path does not take its own LZMA2 data back (%v)", ok)
		}
		want, err := reference(file)
		if err != nil {
			t.Fatalf("fast path decoded %d bytes, reference refuses: %v", got, err)
		}
		if !bytes.Equal(fast, want) {
			t.Fatalf("fast path and reference differ (%d and %d bytes)", got, len(want))
		}
	})
}

// TestXZFastCorpus: Debian's modules (every 8th; all with
// BTFRECON_CORPUS=all) take the fast path and decode as the reference
// decodes them.
func TestXZFastCorpus(t *testing.T) {
	paths, err := realdata.Kernel(t, "6.12.107", "amd64").Modules()
	if err != nil {
		t.Fatal(err)
	}
	step := 8
	if os.Getenv("BTFRECON_CORPUS") == "all" {
		step = 1
	}
	n := 0
	for i := 0; i < len(paths); i += step {
		b, err := os.ReadFile(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		out, ok := xzFast(b)
		if !ok {
			t.Fatalf("%s: fast path refused it", paths[i])
		}
		want, err := reference(b)
		if err != nil || !bytes.Equal(out, want) {
			t.Fatalf("%s: fast path and reference differ (reference: %v)", paths[i], err)
		}
		n++
	}
	t.Logf("%d modules decode identically on the fast path", n)
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
// inflated), on the fast path and with the reference decoder alone.
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
		{"fast", func() ([]byte, error) { out, _, err := decompress(data, path); return out, err }},
		{"reference", func() ([]byte, error) { return xzReference(data, path) }},
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
