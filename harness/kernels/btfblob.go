package kernels

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Sentinel errors of the vmlinuz → BTF path; messages name the file and the
// byte offset concerned.
var (
	ErrNoPayload = errors.New("no compressed kernel payload found")
	ErrNoBTF     = errors.New("no BTF found")
	ErrBadBTF    = errors.New("invalid BTF")
	ErrAmbiguous = errors.New("more than one BTF candidate")
)

// BTF header layout (include/uapi/linux/btf.h, as documented).
const (
	btfMagic     = 0xeb9f
	btfHeaderLen = 24
	btfMaxKind   = 19 // BTF_KIND_ENUM64
)

// zstdMagic starts every zstd frame (RFC 8878, 3.1.1), little-endian 0xFD2FB528.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// ExtractVmlinuxBTF returns the raw vmlinux BTF held in a vmlinuz file. name
// is for messages. It handles an x86 bzImage with a zstd payload, a whole-file
// gzip/zstd/xz kernel, an ELF vmlinux, and an uncompressed arm64 Image (not
// ELF), where the BTF blob is found by its header.
func ExtractVmlinuxBTF(data []byte, name string) ([]byte, error) {
	kernel, kname, err := Decompress(data, name)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(kernel, []byte(elf.ELFMAG)) {
		return ELFSectionBTF(kernel, kname)
	}
	_, blob, err := FindBTF(kernel, kname)
	return blob, err
}

// Decompress returns the kernel image inside a vmlinuz: the data itself when
// it is already ELF or an uncompressed Image, else the decompressed payload.
// The returned name describes where the bytes came from, for messages.
func Decompress(data []byte, name string) ([]byte, string, error) {
	switch {
	case bytes.HasPrefix(data, []byte(elf.ELFMAG)):
		return data, name, nil
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, "", fmt.Errorf("%s: gzip at offset 0: %w", name, err)
		}
		zr.Multistream(false) // what follows the member is not ours to read
		out, err := io.ReadAll(zr)
		if err != nil {
			return nil, "", fmt.Errorf("%s: gzip at offset 0: %w", name, err)
		}
		return out, name + " (gunzipped)", nil
	case bytes.HasPrefix(data, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		xr, err := xz.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, "", fmt.Errorf("%s: xz at offset 0: %w", name, err)
		}
		xr.SingleStream = true
		out, err := io.ReadAll(xr)
		if err != nil {
			return nil, "", fmt.Errorf("%s: xz at offset 0: %w", name, err)
		}
		return out, name + " (unxz)", nil
	case bytes.HasPrefix(data, zstdMagic), isBzImage(data):
		off, n, err := FindZstdFrame(data, name)
		if err != nil {
			return nil, "", err
		}
		out, err := decodeZstd(data[off : off+n])
		if err != nil {
			return nil, "", fmt.Errorf("%s: zstd frame at offset %#x: %w", name, off, err)
		}
		return out, fmt.Sprintf("%s (zstd payload at %#x)", name, off), nil
	}
	// Anything else (an arm64 Image) is taken as the kernel itself.
	return data, name, nil
}

// isBzImage checks for the x86 boot protocol's "HdrS" signature at 0x202.
func isBzImage(data []byte) bool {
	return len(data) > 0x206 && string(data[0x202:0x206]) == "HdrS"
}

func decodeZstd(frame []byte) ([]byte, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	return dec.DecodeAll(frame, nil)
}

// FindZstdFrame returns the offset and length of the first structurally
// valid zstd frame in data. The magic alone is four bytes and can occur by
// chance in setup code, so each candidate's frame header and block headers are
// walked to its end; a candidate that runs off the data or has a reserved
// field set is skipped. Bytes after the frame (x86 appends the decompressed
// size) are not part of it.
func FindZstdFrame(data []byte, name string) (off, n int, err error) {
	for start := 0; ; {
		i := bytes.Index(data[start:], zstdMagic)
		if i < 0 {
			return 0, 0, fmt.Errorf("%s: %w: no zstd frame (magic 28 b5 2f fd) in %d bytes", name, ErrNoPayload, len(data))
		}
		off = start + i
		if n, ok := zstdFrameLen(data[off:]); ok {
			return off, n, nil
		}
		start = off + 1
	}
}

// zstdFrameLen walks one frame (RFC 8878, 3.1.1) starting at b[0] and returns
// its total length.
func zstdFrameLen(b []byte) (int, bool) {
	const maxBlock = 128 << 10
	p := 4
	if len(b) < p+1 {
		return 0, false
	}
	fhd := b[p]
	p++
	fcsFlag, single, reserved, checksum, didFlag := fhd>>6, fhd>>5&1, fhd>>3&1, fhd>>2&1, fhd&3
	if reserved != 0 {
		return 0, false
	}
	if single == 0 {
		p++ // window descriptor
	}
	p += []int{0, 1, 2, 4}[didFlag]
	fcsSize := []int{0, 2, 4, 8}[fcsFlag]
	if fcsFlag == 0 && single == 1 {
		fcsSize = 1
	}
	p += fcsSize
	for {
		if len(b) < p+3 {
			return 0, false
		}
		h := uint32(b[p]) | uint32(b[p+1])<<8 | uint32(b[p+2])<<16
		p += 3
		last, typ, size := h&1, h>>1&3, int(h>>3)
		switch typ {
		case 0, 2: // raw, compressed
			if size > maxBlock {
				return 0, false
			}
			p += size
		case 1: // RLE: one byte repeated size times
			if size > maxBlock {
				return 0, false
			}
			p++
		default: // reserved
			return 0, false
		}
		if p > len(b) {
			return 0, false
		}
		if last == 1 {
			break
		}
	}
	if checksum == 1 {
		p += 4
	}
	if p > len(b) {
		return 0, false
	}
	return p, true
}

// ELFSectionBTF returns the .BTF section of an ELF image, after checking it
// is one well-formed BTF blob filling the section.
func ELFSectionBTF(data []byte, name string) ([]byte, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := f.Section(".BTF")
	if s == nil {
		return nil, fmt.Errorf("%s: %w: no .BTF section", name, ErrNoBTF)
	}
	if s.Type == elf.SHT_NOBITS {
		return nil, fmt.Errorf("%s: %w: .BTF section has no data", name, ErrNoBTF)
	}
	blob, err := s.Data()
	if err != nil {
		return nil, fmt.Errorf("%s: .BTF at offset %#x: %w", name, s.Offset, err)
	}
	n, err := checkBTF(blob)
	if err != nil {
		return nil, fmt.Errorf("%s: .BTF at offset %#x: %w", name, s.Offset, err)
	}
	if n != len(blob) {
		return nil, fmt.Errorf("%s: .BTF at offset %#x: %w: section is %d bytes, BTF header says %d", name, s.Offset, ErrBadBTF, len(blob), n)
	}
	return blob, nil
}

// FindBTF locates the one BTF blob in a non-ELF kernel image by scanning for
// its header: magic 0xeb9f (little-endian), version 1, flags 0, hdr_len 24,
// then sections that fit, a string section that starts and ends with NUL, and
// a type section that walks cleanly to its end. It returns the blob's offset
// and exactly hdr_len+type_len+str_len bytes. More than one passing candidate
// is an error rather than a guess.
func FindBTF(data []byte, name string) (off int, blob []byte, err error) {
	pattern := []byte{0x9f, 0xeb, 1, 0, btfHeaderLen, 0, 0, 0}
	var found []int
	var sizes []int
	var firstErr error
	firstOff := -1
	for start := 0; ; {
		i := bytes.Index(data[start:], pattern)
		if i < 0 {
			break
		}
		at := start + i
		start = at + 1
		n, err := checkBTF(data[at:])
		if err != nil {
			if firstErr == nil {
				firstErr, firstOff = err, at
			}
			continue
		}
		found = append(found, at)
		sizes = append(sizes, n)
	}
	switch len(found) {
	case 0:
		if firstErr != nil {
			return 0, nil, fmt.Errorf("%s: %w: the only header-like bytes (first at offset %#x) are not BTF: %v", name, ErrNoBTF, firstOff, firstErr)
		}
		return 0, nil, fmt.Errorf("%s: %w: no BTF header (9f eb 01 00 18 00 00 00) in %d bytes", name, ErrNoBTF, len(data))
	case 1:
		return found[0], data[found[0] : found[0]+sizes[0]], nil
	}
	return 0, nil, fmt.Errorf("%s: %w: at offsets %#x", name, ErrAmbiguous, found)
}

// checkBTF validates the BTF blob starting at b[0] and returns its length
// (header + types + strings). Errors wrap ErrBadBTF and give offsets relative
// to the blob.
func checkBTF(b []byte) (int, error) {
	if len(b) < btfHeaderLen {
		return 0, fmt.Errorf("%w: %d bytes, shorter than a header", ErrBadBTF, len(b))
	}
	le := binary.LittleEndian
	if m := le.Uint16(b); m != btfMagic {
		return 0, fmt.Errorf("%w: magic %#x at offset 0 (want %#x little-endian)", ErrBadBTF, m, btfMagic)
	}
	if b[2] != 1 || b[3] != 0 {
		return 0, fmt.Errorf("%w: version %d flags %d (want 1, 0)", ErrBadBTF, b[2], b[3])
	}
	hdrLen := le.Uint32(b[4:])
	if hdrLen != btfHeaderLen {
		return 0, fmt.Errorf("%w: hdr_len %d (want %d)", ErrBadBTF, hdrLen, btfHeaderLen)
	}
	typeOff, typeLen := uint64(le.Uint32(b[8:])), uint64(le.Uint32(b[12:]))
	strOff, strLen := uint64(le.Uint32(b[16:])), uint64(le.Uint32(b[20:]))
	// The two sections must tile [0, type_len+str_len) without gap or
	// overlap: that is what the kernel and every writer produce, and it makes
	// the blob's length well defined.
	total := typeLen + strLen
	tiled := (typeOff == 0 && strOff == typeLen) || (strOff == 0 && typeOff == strLen)
	if !tiled {
		return 0, fmt.Errorf("%w: sections types [%#x,+%#x) strings [%#x,+%#x) do not tile the data", ErrBadBTF, typeOff, typeLen, strOff, strLen)
	}
	if typeOff%4 != 0 || typeLen%4 != 0 {
		return 0, fmt.Errorf("%w: type section at %#x, %d bytes: not 4-byte aligned", ErrBadBTF, typeOff, typeLen)
	}
	if uint64(len(b)) < btfHeaderLen+total {
		return 0, fmt.Errorf("%w: header says %d bytes, only %d available", ErrBadBTF, btfHeaderLen+total, len(b))
	}
	data := b[btfHeaderLen : btfHeaderLen+total]
	strs := data[strOff : strOff+strLen]
	if strLen == 0 || strs[0] != 0 || strs[strLen-1] != 0 {
		return 0, fmt.Errorf("%w: string section at offset %#x does not start and end with NUL", ErrBadBTF, btfHeaderLen+strOff)
	}
	if err := walkTypes(data[typeOff:typeOff+typeLen], strLen); err != nil {
		return 0, fmt.Errorf("%w: type section at offset %#x: %v", ErrBadBTF, btfHeaderLen+typeOff, err)
	}
	return int(btfHeaderLen + total), nil
}

// walkTypes steps over every type record to prove the section is a whole
// number of well-formed records. It checks only framing (kind, trailing
// data, name offsets), not references: enough to reject chance matches.
func walkTypes(t []byte, strLen uint64) error {
	le := binary.LittleEndian
	for p := 0; p < len(t); {
		if len(t)-p < 12 {
			return fmt.Errorf("truncated type record at +%#x", p)
		}
		nameOff, info := le.Uint32(t[p:]), le.Uint32(t[p+4:])
		kind, vlen := info>>24&0x1f, int(info&0xffff)
		if kind == 0 || kind > btfMaxKind {
			return fmt.Errorf("type record at +%#x: kind %d", p, kind)
		}
		if uint64(nameOff) >= strLen {
			return fmt.Errorf("type record at +%#x: name_off %d beyond strings (%d bytes)", p, nameOff, strLen)
		}
		p += 12
		switch kind {
		case 1, 14, 17: // INT, VAR, DECL_TAG: one u32
			p += 4
		case 3: // ARRAY: type, index_type, nelems
			p += 12
		case 4, 5, 15, 19: // STRUCT, UNION, DATASEC, ENUM64: vlen × 12
			p += 12 * vlen
		case 6, 13: // ENUM, FUNC_PROTO: vlen × 8
			p += 8 * vlen
		}
		if p > len(t) {
			return fmt.Errorf("type record of kind %d runs past the section end (+%#x)", kind, len(t))
		}
	}
	return nil
}
