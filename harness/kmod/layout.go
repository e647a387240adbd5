package kmod

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// The on-disk ELF header and section header table, decoded by hand because
// the writer needs every field back exactly as it was, which debug/elf does
// not give (it drops e_ehsize bytes, extended numbering details, ...).

const (
	shnLoReserve = 0xff00 // first reserved section index: counts at or above go into section 0
	shnXIndex    = 0xffff // e_shstrndx escape: the real index is in section 0's sh_link

	ehdr32Size = 52
	ehdr64Size = 64
	shdr32Size = 40
	shdr64Size = 64
)

// shdr is one section header, widened to the ELF64 field sizes.
type shdr struct {
	name    uint32
	typ     elf.SectionType
	flags   elf.SectionFlag
	addr    uint64
	off     uint64
	size    uint64
	link    uint32
	info    uint32
	align   uint64
	entsize uint64
}

// layout is what we know about an ELF image's tables.
type layout struct {
	class elf.Class
	order binary.ByteOrder
	ehdr  []byte // e_ehsize bytes of the original header, re-emitted as they were

	phoff     uint64
	phnum     int
	shoff     uint64
	extShnum  bool // e_shnum was 0: the count lives in section 0's sh_size
	extStrndx bool // e_shstrndx was SHN_XINDEX: the index lives in section 0's sh_link
	shstrndx  int  // 0 when there is no section name table
	sections  []shdr
	names     []string
}

func (l *layout) is64() bool { return l.class == elf.ELFCLASS64 }

func (l *layout) shentsize() int {
	if l.is64() {
		return shdr64Size
	}
	return shdr32Size
}

// ehdr field offsets that differ between classes: e_phoff, e_shoff, e_ehsize.
// The 16-bit fields after e_ehsize follow in a fixed order.
func (l *layout) ehdrOffsets() (phoff, shoff, ehsize int) {
	if l.is64() {
		return 32, 40, 52
	}
	return 28, 32, 40
}

// parseLayout decodes and bounds-checks the ELF header and section header
// table of b. Every offset it accepts is inside b, so callers may slice freely.
func parseLayout(b []byte, file string) (*layout, error) {
	if len(b) < 4 || !bytes.Equal(b[:4], []byte(elf.ELFMAG)) {
		return nil, fmt.Errorf("%s: no ELF magic at offset 0: %w", file, ErrNotELF)
	}
	if len(b) < elf.EI_NIDENT {
		return nil, fmt.Errorf("%s: ELF identification needs %d bytes, file has %d: %w",
			file, elf.EI_NIDENT, len(b), ErrTruncated)
	}
	l := &layout{class: elf.Class(b[elf.EI_CLASS])}
	switch l.class {
	case elf.ELFCLASS32, elf.ELFCLASS64:
	default:
		return nil, fmt.Errorf("%s: unknown ELF class %d at offset %#x: %w", file, b[elf.EI_CLASS], elf.EI_CLASS, ErrNotELF)
	}
	switch elf.Data(b[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		l.order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		l.order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%s: unknown ELF data encoding %d at offset %#x: %w", file, b[elf.EI_DATA], elf.EI_DATA, ErrNotELF)
	}

	std := ehdr32Size
	if l.is64() {
		std = ehdr64Size
	}
	if len(b) < std {
		return nil, fmt.Errorf("%s: ELF header needs %d bytes, file has %d: %w", file, std, len(b), ErrTruncated)
	}
	phoffAt, shoffAt, ehsizeAt := l.ehdrOffsets()
	o := l.order
	word := func(at int) uint64 {
		if l.is64() {
			return o.Uint64(b[at:])
		}
		return uint64(o.Uint32(b[at:]))
	}
	l.phoff = word(phoffAt)
	l.shoff = word(shoffAt)
	ehsize := int(o.Uint16(b[ehsizeAt:]))
	phentsize := int(o.Uint16(b[ehsizeAt+2:]))
	l.phnum = int(o.Uint16(b[ehsizeAt+4:]))
	shentsize := int(o.Uint16(b[ehsizeAt+6:]))
	shnum := uint64(o.Uint16(b[ehsizeAt+8:]))
	shstrndx := uint32(o.Uint16(b[ehsizeAt+10:]))

	if ehsize < std {
		return nil, fmt.Errorf("%s: e_ehsize %d at offset %#x is smaller than the %d-byte header: %w",
			file, ehsize, ehsizeAt, std, ErrMalformed)
	}
	if ehsize > len(b) {
		return nil, fmt.Errorf("%s: e_ehsize %d at offset %#x runs past end of file (%d bytes): %w",
			file, ehsize, ehsizeAt, len(b), ErrTruncated)
	}
	l.ehdr = b[:ehsize:ehsize]

	// e_phoff means nothing when there are no program headers; relocatable
	// files have none and usually say 0.
	if l.phnum > 0 && (l.phoff > uint64(len(b)) || uint64(l.phnum)*uint64(phentsize) > uint64(len(b))-l.phoff) {
		return nil, fmt.Errorf("%s: %d program headers of %d bytes at offset %#x run past end of file (%d bytes): %w",
			file, l.phnum, phentsize, l.phoff, len(b), ErrTruncated)
	}

	if l.shoff == 0 {
		// No section header table: nothing to find, nothing to rewrite.
		return l, nil
	}
	if shentsize != l.shentsize() {
		return nil, fmt.Errorf("%s: e_shentsize %d at offset %#x, want %d: %w",
			file, shentsize, ehsizeAt+6, l.shentsize(), ErrMalformed)
	}
	if l.shoff > uint64(len(b)) || uint64(len(b))-l.shoff < uint64(shentsize) {
		return nil, fmt.Errorf("%s: section header table at offset %#x runs past end of file (%d bytes): %w",
			file, l.shoff, len(b), ErrTruncated)
	}
	s0 := l.decodeShdr(b[l.shoff:])
	if shnum == 0 {
		l.extShnum = true
		shnum = s0.size
	}
	if shnum == 0 {
		return nil, fmt.Errorf("%s: section header table at offset %#x has no entries: %w", file, l.shoff, ErrMalformed)
	}
	if shnum > (uint64(len(b))-l.shoff)/uint64(shentsize) {
		return nil, fmt.Errorf("%s: section header table at offset %#x: %d entries of %d bytes run past end of file (%d bytes): %w",
			file, l.shoff, shnum, shentsize, len(b), ErrTruncated)
	}
	if shstrndx == shnXIndex {
		l.extStrndx = true
		shstrndx = s0.link
	}
	if uint64(shstrndx) >= shnum {
		return nil, fmt.Errorf("%s: e_shstrndx %d at offset %#x out of range (%d sections): %w",
			file, shstrndx, ehsizeAt+10, shnum, ErrMalformed)
	}
	l.shstrndx = int(shstrndx)

	l.sections = make([]shdr, shnum)
	for i := range l.sections {
		at := l.shoff + uint64(i)*uint64(shentsize)
		s := l.decodeShdr(b[at:])
		if hasContents(s) && (s.off > uint64(len(b)) || s.size > uint64(len(b))-s.off) {
			return nil, fmt.Errorf("%s: section %d (header at offset %#x): %d bytes at offset %#x run past end of file (%d bytes): %w",
				file, i, at, s.size, s.off, len(b), ErrTruncated)
		}
		l.sections[i] = s
	}

	l.names = make([]string, shnum)
	if l.shstrndx == 0 {
		return l, nil
	}
	strs := l.sections[l.shstrndx]
	if !hasContents(strs) {
		return nil, fmt.Errorf("%s: section name table %d has no contents (%v): %w", file, l.shstrndx, strs.typ, ErrMalformed)
	}
	tab := b[strs.off : strs.off+strs.size]
	for i, s := range l.sections {
		if i == 0 && s.name == 0 {
			continue
		}
		if uint64(s.name) >= uint64(len(tab)) {
			return nil, fmt.Errorf("%s: section %d: name offset %#x outside section name table (%d bytes at offset %#x): %w",
				file, i, s.name, len(tab), strs.off, ErrMalformed)
		}
		n := bytes.IndexByte(tab[s.name:], 0)
		if n < 0 {
			return nil, fmt.Errorf("%s: section %d: name at offset %#x is not NUL-terminated: %w",
				file, i, strs.off+uint64(s.name), ErrMalformed)
		}
		l.names[i] = string(tab[s.name : s.name+uint32(n)])
	}
	return l, nil
}

// decodeShdr reads one section header; b must hold at least shentsize bytes.
func (l *layout) decodeShdr(b []byte) shdr {
	o := l.order
	if l.is64() {
		return shdr{
			name:    o.Uint32(b[0:]),
			typ:     elf.SectionType(o.Uint32(b[4:])),
			flags:   elf.SectionFlag(o.Uint64(b[8:])),
			addr:    o.Uint64(b[16:]),
			off:     o.Uint64(b[24:]),
			size:    o.Uint64(b[32:]),
			link:    o.Uint32(b[40:]),
			info:    o.Uint32(b[44:]),
			align:   o.Uint64(b[48:]),
			entsize: o.Uint64(b[56:]),
		}
	}
	return shdr{
		name:    o.Uint32(b[0:]),
		typ:     elf.SectionType(o.Uint32(b[4:])),
		flags:   elf.SectionFlag(o.Uint32(b[8:])),
		addr:    uint64(o.Uint32(b[12:])),
		off:     uint64(o.Uint32(b[16:])),
		size:    uint64(o.Uint32(b[20:])),
		link:    o.Uint32(b[24:]),
		info:    o.Uint32(b[28:]),
		align:   uint64(o.Uint32(b[32:])),
		entsize: uint64(o.Uint32(b[36:])),
	}
}

// encodeShdr writes s into b; for ELF32 the caller has checked that every
// field fits in 32 bits.
func (l *layout) encodeShdr(b []byte, s shdr) {
	o := l.order
	if l.is64() {
		o.PutUint32(b[0:], s.name)
		o.PutUint32(b[4:], uint32(s.typ))
		o.PutUint64(b[8:], uint64(s.flags))
		o.PutUint64(b[16:], s.addr)
		o.PutUint64(b[24:], s.off)
		o.PutUint64(b[32:], s.size)
		o.PutUint32(b[40:], s.link)
		o.PutUint32(b[44:], s.info)
		o.PutUint64(b[48:], s.align)
		o.PutUint64(b[56:], s.entsize)
		return
	}
	o.PutUint32(b[0:], s.name)
	o.PutUint32(b[4:], uint32(s.typ))
	o.PutUint32(b[8:], uint32(s.flags))
	o.PutUint32(b[12:], uint32(s.addr))
	o.PutUint32(b[16:], uint32(s.off))
	o.PutUint32(b[20:], uint32(s.size))
	o.PutUint32(b[24:], s.link)
	o.PutUint32(b[28:], s.info)
	o.PutUint32(b[32:], uint32(s.align))
	o.PutUint32(b[36:], uint32(s.entsize))
}

// hasContents says whether a section occupies file bytes. An SHT_NULL header
// is inactive: section 0's sh_size may hold the section count instead.
func hasContents(s shdr) bool { return s.typ != elf.SHT_NOBITS && s.typ != elf.SHT_NULL }

// contents returns the bytes of section i; nil when it has none.
func (l *layout) contents(b []byte, i int) []byte {
	s := l.sections[i]
	if !hasContents(s) {
		return nil
	}
	return b[s.off : s.off+s.size : s.off+s.size]
}

// find returns the indices of the sections called name.
func (l *layout) find(name string) []int {
	var idx []int
	for i, n := range l.names {
		if i > 0 && n == name {
			idx = append(idx, i)
		}
	}
	return idx
}
