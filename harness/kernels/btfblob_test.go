package kernels

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// synthBTF builds a small valid BTF blob: int, pointer to it, and a struct
// with one member (types first, strings after, as every writer does).
func synthBTF() []byte {
	strs := []byte("\x00int\x00s\x00m\x00")
	le := binary.LittleEndian
	var types []byte
	u32 := func(v ...uint32) {
		for _, x := range v {
			types = le.AppendUint32(types, x)
		}
	}
	u32(1, 1<<24, 4, 32)        // [1] INT "int" size 4, 32 bits
	u32(0, 2<<24, 1)            // [2] PTR -> 1
	u32(5, 4<<24|1, 8, 7, 2, 0) // [3] STRUCT "s" size 8 { m: *int @0 }
	return btfWith(types, strs, 0, uint32(len(types)))
}

func btfWith(types, strs []byte, typeOff, strOff uint32) []byte {
	le := binary.LittleEndian
	h := []byte{0x9f, 0xeb, 1, 0}
	h = le.AppendUint32(h, 24)
	h = le.AppendUint32(h, typeOff)
	h = le.AppendUint32(h, uint32(len(types)))
	h = le.AppendUint32(h, strOff)
	h = le.AppendUint32(h, uint32(len(strs)))
	return append(append(h, types...), strs...)
}

func garbage(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31) ^ seed
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestCheckBTF(t *testing.T) {
	good := synthBTF()
	mut := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	le := binary.LittleEndian
	for _, tc := range []struct {
		name    string
		in      []byte
		wantLen int
		wantErr string
	}{
		{"valid", good, len(good), ""},
		{"valid with trailing bytes", cat(good, garbage(9, 1)), len(good), ""},
		{"short", good[:10], 0, "10 bytes, shorter than a header"},
		{"big-endian magic", mut(func(b []byte) { b[0], b[1] = 0xeb, 0x9f }), 0, "magic 0x9feb at offset 0"},
		{"version 2", mut(func(b []byte) { b[2] = 2 }), 0, "version 2 flags 0"},
		{"hdr_len 32", mut(func(b []byte) { b[4] = 32 }), 0, "hdr_len 32 (want 24)"},
		{"gap between sections", mut(func(b []byte) { le.PutUint32(b[16:], le.Uint32(b[16:])+4) }), 0, "do not tile"},
		{"too long", mut(func(b []byte) { le.PutUint32(b[20:], 1<<20) }), 0, "only"},
		{"strings do not end in NUL", mut(func(b []byte) { b[len(b)-1] = 'x' }), 0, "does not start and end with NUL"},
		{"kind 0", mut(func(b []byte) { b[24+7] = 0 }), 0, "kind 0"},
		{"kind 20", mut(func(b []byte) { b[24+7] = 20 }), 0, "kind 20"},
		{"name beyond strings", mut(func(b []byte) { le.PutUint32(b[24:], 99) }), 0, "name_off 99"},
		{"vlen runs past end", mut(func(b []byte) { b[24+16+12+4] = 9 }), 0, "runs past the section end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := checkBTF(tc.in)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrBadBTF) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrBadBTF containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || n != tc.wantLen {
				t.Fatalf("checkBTF = %d, %v; want %d", n, err, tc.wantLen)
			}
		})
	}
}

func TestFindBTF(t *testing.T) {
	blob := synthBTF()
	// Header bytes that match the 8-byte pattern but whose sections do not fit.
	fake := cat([]byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0}, garbage(16, 0xff))
	for _, tc := range []struct {
		name    string
		in      []byte
		wantOff int
		wantErr error
		errText string
	}{
		{"garbage, blob, garbage", cat(garbage(1001, 3), blob, garbage(500, 4)), 1001, nil, ""},
		{"false positive first", cat(garbage(64, 5), fake, garbage(7, 6), blob, garbage(3, 7)), 64 + len(fake) + 7, nil, ""},
		{"blob at the very end", cat(garbage(40, 8), blob), 40, nil, ""},
		{"only a false positive", cat(garbage(64, 9), fake, garbage(64, 9)), 0, ErrNoBTF, "first at offset 0x40"},
		{"nothing", garbage(4096, 10), 0, ErrNoBTF, "no BTF header"},
		{"two blobs", cat(garbage(16, 11), blob, garbage(16, 12), blob), 0, ErrAmbiguous, "at offsets [0x10 0x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off, got, err := FindBTF(tc.in, "img")
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.HasPrefix(err.Error(), "img: ") || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err = %v, want %v naming img and %q", err, tc.wantErr, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if off != tc.wantOff || !bytes.Equal(got, blob) {
				t.Fatalf("FindBTF = offset %d, %d bytes; want offset %d, the %d-byte blob", off, len(got), tc.wantOff, len(blob))
			}
		})
	}
}

// minimalELF builds an ELF64 LE file with a .BTF section (and .shstrtab).
func minimalELF(btf []byte) []byte {
	shstr := []byte("\x00.BTF\x00.shstrtab\x00")
	le := binary.LittleEndian
	const ehsize, shentsize = 64, 64
	btfOff := uint64(ehsize)
	strOff := btfOff + uint64(len(btf))
	shOff := (strOff + uint64(len(shstr)) + 7) &^ 7
	var b bytes.Buffer
	binary.Write(&b, le, elf.Header64{
		Ident:   [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:    uint16(elf.ET_EXEC),
		Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Shoff: shOff, Ehsize: ehsize, Shentsize: shentsize, Shnum: 3, Shstrndx: 2,
	})
	b.Write(btf)
	b.Write(shstr)
	b.Write(make([]byte, shOff-uint64(b.Len())))
	binary.Write(&b, le, elf.Section64{})
	binary.Write(&b, le, elf.Section64{Name: 1, Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC), Off: btfOff, Size: uint64(len(btf)), Addralign: 1})
	binary.Write(&b, le, elf.Section64{Name: 6, Type: uint32(elf.SHT_STRTAB), Off: strOff, Size: uint64(len(shstr)), Addralign: 1})
	return b.Bytes()
}

func zstdFrame(t *testing.T, payload []byte, opts ...zstd.EOption) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(payload, nil)
}

// fakeBzImage puts payload at 0x400 behind an x86 setup header signature.
func fakeBzImage(prefix, payload, trailer []byte) []byte {
	setup := make([]byte, 0x400)
	copy(setup[0x202:], "HdrS")
	copy(setup[0x300:], prefix)
	return cat(setup, payload, trailer)
}

func TestFindZstdFrame(t *testing.T) {
	body := cat(garbage(300000, 1), bytes.Repeat([]byte{0}, 200000)) // several blocks, an RLE run
	frame := zstdFrame(t, body)
	noCRC := zstdFrame(t, body, zstd.WithEncoderCRC(false))
	// A lone magic followed by a reserved block type: must be skipped.
	falseMagic := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x07, 0x00, 0x00}
	sizeTrailer := binary.LittleEndian.AppendUint32(nil, uint32(len(body)))
	for _, tc := range []struct {
		name    string
		in      []byte
		wantOff int
		wantLen int
		wantErr bool
	}{
		{"bare frame", frame, 0, len(frame), false},
		{"garbage, frame, size trailer, garbage", cat(garbage(777, 2), frame, sizeTrailer, garbage(99, 3)), 777, len(frame), false},
		{"false magic first", cat(garbage(10, 4), falseMagic, garbage(10, 5), noCRC, sizeTrailer), 10 + len(falseMagic) + 10, len(noCRC), false},
		{"truncated frame", cat(garbage(10, 6), frame[:len(frame)-5]), 0, 0, true},
		{"no magic", garbage(1000, 7), 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off, n, err := FindZstdFrame(tc.in, "vmlinuz")
			if tc.wantErr {
				if !errors.Is(err, ErrNoPayload) || !strings.HasPrefix(err.Error(), "vmlinuz: ") {
					t.Fatalf("err = %v, want ErrNoPayload naming vmlinuz", err)
				}
				return
			}
			if err != nil || off != tc.wantOff || n != tc.wantLen {
				t.Fatalf("FindZstdFrame = %d, %d, %v; want %d, %d", off, n, err, tc.wantOff, tc.wantLen)
			}
			got, err := decodeZstd(tc.in[off : off+n])
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("decoded frame: %d bytes, %v", len(got), err)
			}
		})
	}
}

// The whole vmlinuz → BTF path on synthetic kernels of each shape.
func TestExtractVmlinuxBTF(t *testing.T) {
	blob := synthBTF()
	vmlinux := cat(minimalELF(blob), garbage(5000, 1)) // x86 appends relocations after the ELF
	image := cat(garbage(70000, 2), blob, garbage(30000, 3))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(image)
	zw.Close()
	trailer := binary.LittleEndian.AppendUint32(nil, uint32(len(vmlinux)))
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"bzImage with zstd ELF payload", fakeBzImage([]byte{0x28, 0xb5, 0x2f, 0xfd, 0xff}, zstdFrame(t, vmlinux), cat(trailer, garbage(100, 4)))},
		{"ELF vmlinux", vmlinux},
		{"raw arm64 Image", image},
		{"gzipped Image", cat(gz.Bytes(), garbage(8, 5))},
		{"zstd Image", zstdFrame(t, image)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExtractVmlinuxBTF(tc.in, "vmlinuz")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, blob) {
				t.Fatalf("got %d bytes, want the %d-byte blob", len(got), len(blob))
			}
		})
	}

	// An ELF without .BTF, and a bzImage without a zstd payload.
	if _, err := ELFSectionBTF(minimalELFNoBTF(), "x.elf"); !errors.Is(err, ErrNoBTF) {
		t.Errorf("ELF without .BTF: err = %v", err)
	}
	if _, err := ExtractVmlinuxBTF(fakeBzImage(nil, garbage(5000, 6), nil), "bz"); !errors.Is(err, ErrNoPayload) {
		t.Errorf("bzImage without zstd: err = %v", err)
	}
}

func minimalELFNoBTF() []byte {
	b := minimalELF(synthBTF())
	// Rename ".BTF" to ".XTF" in .shstrtab.
	i := bytes.Index(b, []byte("\x00.BTF\x00.shstrtab"))
	b[i+2] = 'X'
	return b
}
