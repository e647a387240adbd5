package kmod

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/cache"
	"github.com/ulikunitz/xz"
)

func TestParseTestdata(t *testing.T) {
	btf := readTestdata(t, "btf.bin")
	for _, tc := range []struct {
		file       string
		name       string
		class      elf.Class
		order      binary.ByteOrder
		machine    elf.Machine
		signed     bool
		compressed bool
	}{
		{"tiny-x86_64.ko", "tiny-x86_64", elf.ELFCLASS64, binary.LittleEndian, elf.EM_X86_64, false, false},
		{"tiny-i386.ko", "tiny-i386", elf.ELFCLASS32, binary.LittleEndian, elf.EM_386, false, false},
		{"tiny-s390x.ko", "tiny-s390x", elf.ELFCLASS64, binary.BigEndian, elf.EM_S390, false, false},
		{"tiny-ppc32.ko", "tiny-ppc32", elf.ELFCLASS32, binary.BigEndian, elf.EM_PPC, false, false},
		{"tiny-x86_64-signed.ko.xz", "tiny-x86_64-signed", elf.ELFCLASS64, binary.LittleEndian, elf.EM_X86_64, true, true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m, err := Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != tc.name || m.ModinfoName != "tiny" {
				t.Errorf("names %q, %q; want %q, %q", m.Name, m.ModinfoName, tc.name, "tiny")
			}
			if m.Class != tc.class || m.ByteOrder != tc.order || m.Machine != tc.machine || m.Type != elf.ET_REL {
				t.Errorf("got %v %v %v %v", m.Class, m.ByteOrder, m.Machine, m.Type)
			}
			if m.Signed() != tc.signed || m.Compressed != tc.compressed {
				t.Errorf("signed %v compressed %v, want %v %v", m.Signed(), m.Compressed, tc.signed, tc.compressed)
			}
			got, ok := m.BTF()
			if !ok || !bytes.Equal(got, btf) {
				t.Errorf(".BTF: ok %v, %d bytes, want the %d bytes of btf.bin", ok, len(got), len(btf))
			}
			if b, ok := m.BTFBase(); ok || b != nil {
				t.Errorf(".BTF.base: %v %d bytes, want none", ok, len(b))
			}
			// Copies, not views: scribbling on them must not reach the module.
			got[0] ^= 0xff
			if again, _ := m.BTF(); !bytes.Equal(again, btf) {
				t.Error("BTF() returned a view into the module")
			}
		})
	}
}

func TestParseSignedXZ(t *testing.T) {
	plain := readTestdata(t, "tiny-x86_64.ko")
	m, err := Parse(readTestdata(t, "tiny-x86_64-signed.ko.xz"), "x/y/tiny.ko.xz")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.ELF(), plain) {
		t.Error("ELF() is not the image without signature")
	}
	sig := m.Signature()
	if len(sig) != 16+sigInfoSize+len(sigTrailer) || !strings.HasSuffix(string(sig), sigTrailer) {
		t.Errorf("signature block %q", sig)
	}
}

func TestModuleName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/lib/modules/6.12/kernel/fs/nls/nls_ascii.ko.xz", "nls_ascii"},
		{"nls_ascii.ko", "nls_ascii"},
		{"a.ko.zst", "a"},
		{"9pnet_virtio.ko.gz", "9pnet_virtio"},
		{"plain.o", "plain.o"},
		{".ko", ".ko"},
		{"dir/x.ko.xz.bak", "x.ko.xz.bak"},
	} {
		if got := moduleName(tc.in); got != tc.want {
			t.Errorf("moduleName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestModinfoValue(t *testing.T) {
	info := []byte("\x00license=GPL\x00\x00name=nls_ascii\x00vermagic=6.12 SMP\x00names=no\x00")
	for _, tc := range []struct{ key, want string }{
		{"name", "nls_ascii"},
		{"license", "GPL"},
		{"vermagic", "6.12 SMP"},
		{"alias", ""},
	} {
		if got := modinfoValue(info, tc.key); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.key, got, tc.want)
		}
	}
}

// mutate returns a copy of b changed by f.
func mutate(b []byte, f func(b []byte) []byte) []byte { return f(bytes.Clone(b)) }

func TestParseMalformed(t *testing.T) {
	ko := readTestdata(t, "tiny-x86_64.ko")
	l, err := parseLayout(ko, "base")
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	shdrAt := func(i int) int { return int(l.shoff) + i*shdr64Size }
	btf := l.find(".BTF")[0]
	modinfo := l.find(".modinfo")[0]
	xzd := readTestdata(t, "tiny-x86_64-signed.ko.xz")
	sign := func(img []byte, sigLen uint32) []byte {
		info := make([]byte, sigInfoSize)
		binary.BigEndian.PutUint32(info[8:], sigLen)
		return append(append(img, info...), sigTrailer...)
	}

	for _, tc := range []struct {
		name string
		data []byte
		err  error
		msg  string
	}{
		{"empty", nil, ErrNotELF, "no ELF magic at offset 0"},
		{"text", []byte("hello, world\n"), ErrNotELF, "no ELF magic at offset 0"},
		{"magic only", []byte("\x7fELF"), ErrTruncated, "ELF identification needs 16 bytes, file has 4"},
		{"bad class", mutate(ko, func(b []byte) []byte { b[4] = 3; return b }), ErrNotELF, "unknown ELF class 3 at offset 0x4"},
		{"bad data", mutate(ko, func(b []byte) []byte { b[5] = 7; return b }), ErrNotELF, "unknown ELF data encoding 7 at offset 0x5"},
		{"short header", ko[:40], ErrTruncated, "ELF header needs 64 bytes, file has 40"},
		{"e_ehsize small", mutate(ko, func(b []byte) []byte { le.PutUint16(b[52:], 12); return b }), ErrMalformed,
			"e_ehsize 12 at offset 0x34 is smaller than the 64-byte header"},
		{"e_shoff past EOF", mutate(ko, func(b []byte) []byte { le.PutUint64(b[40:], 1<<62); return b }), ErrTruncated,
			"section header table at offset 0x4000000000000000 runs past end of file (1768 bytes)"},
		{"e_shentsize", mutate(ko, func(b []byte) []byte { le.PutUint16(b[58:], 32); return b }), ErrMalformed,
			"e_shentsize 32 at offset 0x3a, want 64"},
		{"e_shnum huge", mutate(ko, func(b []byte) []byte { le.PutUint16(b[60:], 0xfeff); return b }), ErrTruncated,
			fmt.Sprintf("section header table at offset %#x: 65279 entries of 64 bytes run past end of file (1768 bytes)", l.shoff)},
		{"extended e_shnum huge", mutate(ko, func(b []byte) []byte {
			le.PutUint16(b[60:], 0)
			le.PutUint64(b[shdrAt(0)+32:], 1<<40)
			return b
		}), ErrTruncated, "1099511627776 entries of 64 bytes run past end of file"},
		{"e_shstrndx out of range", mutate(ko, func(b []byte) []byte { le.PutUint16(b[62:], 200); return b }), ErrMalformed,
			fmt.Sprintf("e_shstrndx 200 at offset 0x3e out of range (%d sections)", len(l.sections))},
		{"SHN_XINDEX out of range", mutate(ko, func(b []byte) []byte { le.PutUint16(b[62:], 0xffff); le.PutUint32(b[shdrAt(0)+40:], 999); return b }),
			ErrMalformed, "e_shstrndx 999 at offset 0x3e out of range"},
		{"section offset past EOF", mutate(ko, func(b []byte) []byte { le.PutUint64(b[shdrAt(btf)+24:], 1<<63); return b }), ErrTruncated,
			fmt.Sprintf("section %d (header at offset %#x): 126 bytes at offset 0x8000000000000000 run past end of file (1768 bytes)", btf, shdrAt(btf))},
		{"section size huge", mutate(ko, func(b []byte) []byte { le.PutUint64(b[shdrAt(btf)+32:], ^uint64(0)); return b }), ErrTruncated,
			fmt.Sprintf("section %d (header at offset %#x): 18446744073709551615 bytes at offset", btf, shdrAt(btf))},
		{"name outside shstrtab", mutate(ko, func(b []byte) []byte { le.PutUint32(b[shdrAt(btf):], 0x10000); return b }), ErrMalformed,
			fmt.Sprintf("section %d: name offset 0x10000 outside section name table", btf)},
		{"duplicate .BTF", mutate(ko, func(b []byte) []byte {
			copy(b[shdrAt(modinfo):shdrAt(modinfo)+4], b[shdrAt(btf):shdrAt(btf)+4])
			return b
		}), ErrMalformed, fmt.Sprintf("2 sections named .BTF (indices [%d %d])", modinfo, btf)},
		{".BTF NOBITS", mutate(ko, func(b []byte) []byte { le.PutUint32(b[shdrAt(btf)+4:], uint32(elf.SHT_NOBITS)); return b }), ErrMalformed,
			fmt.Sprintf("section %d (.BTF) is SHT_NOBITS", btf)},
		{"bad xz", append(bytes.Clone(xzMagic), "garbage garbage garbage"...), ErrXZ, "bad xz data"},
		{"truncated xz", xzd[:len(xzd)/2], ErrXZ, "bad xz data after"},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0}, ErrZstd, "bad zstd data"},
		{"signature longer than file", sign(bytes.Clone(ko), 1000000), ErrTruncated,
			"signature info at offset 0x6e8 claims a 1000000-byte signature, only 1768 bytes precede it"},
		{"bare trailer", []byte("xx" + sigTrailer), ErrTruncated,
			"signature trailer at offset 0x2 leaves no room for the 12-byte signature info"},
		{"signature eats the header", sign(bytes.Clone(ko), 1760), ErrTruncated, "ELF identification needs 16 bytes, file has 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.data, "bad.ko")
			if err == nil {
				t.Fatalf("accepted: %+v", m)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("error %q is not %v", err, tc.err)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "bad.ko: ") {
				t.Errorf("error %q\nwant it to start with the file name and contain %q", err, tc.msg)
			}
		})
	}
}

// TestParseXZBomb: an xz stream that inflates to something other than an
// ELF image is refused after its first bytes, not after inflating it all.
func TestParseXZBomb(t *testing.T) {
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 64 { // 64 MiB of zeros, a few KiB compressed
		w.Write(zeros)
	}
	w.Close()
	_, err = Parse(buf.Bytes(), "bomb.ko.xz")
	if !errors.Is(err, ErrNotELF) || !strings.Contains(err.Error(), "bomb.ko.xz: xz stream holds 00000000..., not an ELF image") {
		t.Fatalf("got %v", err)
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "none.ko"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "none.ko") {
		t.Errorf("got %v", err)
	}
}

// realModule finds a Debian module in the cache another package fills.
func realModule(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("BTFRECON_CACHE")
	if dir == "" {
		var err error
		if dir, err = cache.Dir(); err != nil {
			tb.Skipf("no cache dir: %v", err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*", "lib", "modules", "*", "kernel", "fs", "nls", "nls_ascii.ko.xz")); len(m) > 0 {
		return m[0]
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*", "*", "lib", "modules", "*", "kernel", "fs", "nls", "nls_ascii.ko.xz")); len(m) > 0 {
		return m[0]
	}
	var any string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".ko.xz") {
			any = p
			return filepath.SkipAll
		}
		return nil
	})
	if any == "" {
		tb.Skipf("no .ko.xz under %s (filled by the kernel image fetcher)", dir)
	}
	return any
}

func TestRealModule(t *testing.T) {
	path := realModule(t)
	m, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	btf, ok := m.BTF()
	t.Logf("%s: ELF %d bytes, .BTF %d bytes, signature %d bytes, modinfo name %q",
		path, len(m.ELF()), len(btf), len(m.Signature()), m.ModinfoName)
	if !ok || len(btf) < 24 || m.ByteOrder.Uint16(btf) != 0xeb9f {
		t.Errorf(".BTF missing or without BTF magic")
	}
	if !m.Compressed || !m.Signed() || m.Type != elf.ET_REL {
		t.Errorf("compressed %v signed %v type %v: Debian modules are all three", m.Compressed, m.Signed(), m.Type)
	}
	if m.ModinfoName != strings.ReplaceAll(m.Name, "-", "_") {
		t.Errorf("modinfo name %q for file %q", m.ModinfoName, m.Name)
	}
	// Debian's modules are tightly packed: an unchanged rewrite is the
	// unsigned image, byte for byte (true for all 4230 amd64 modules of
	// 6.12.117).
	same, err := m.WithSections(btf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(same, m.ELF()) {
		t.Error("unchanged rewrite differs from the unsigned image")
	}
	checkAddBase(t, m, btf[:len(btf)-1], []byte("distilled base stand-in"))
}

func BenchmarkParse(b *testing.B) {
	for _, file := range []string{"tiny-x86_64.ko", "tiny-x86_64-signed.ko.xz"} {
		data := readTestdata(b, file)
		b.Run(file, func(b *testing.B) {
			for b.Loop() {
				if _, err := Parse(data, file); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
