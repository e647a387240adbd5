package kmod

import (
	"bytes"
	"debug/elf"
	"fmt"
	"math"
	"slices"
)

// maxAlign bounds sh_addralign when laying a file out again; real modules
// stop at a page (4096). Beyond it, padding alone could make the output huge.
const maxAlign = 1 << 20

// WithSections returns a new, uncompressed and unsigned ELF image in which
// .BTF holds btf and .BTF.base holds btfBase. A nil argument leaves that
// section as it is; a missing section is added. Every other section keeps
// its index, header fields and bytes; only file offsets change.
//
// Adding .BTF.base to a module with no .BTF (and no btf argument) returns
// ErrNoBTF: the loader only reads a distilled base to relocate a split .BTF.
func (m *Module) WithSections(btf, btfBase []byte) ([]byte, error) {
	if btfBase != nil && btf == nil && m.btf == 0 {
		return nil, fmt.Errorf("%s: adding %s: %w", m.file, SectionBTFBase, ErrNoBTF)
	}
	var repl []replacement
	if btf != nil {
		repl = append(repl, replacement{SectionBTF, btf})
	}
	if btfBase != nil {
		repl = append(repl, replacement{SectionBTFBase, btfBase})
	}
	return rewrite(m.layout, m.image, m.file, repl)
}

type replacement struct {
	name string
	data []byte
}

// rewrite lays the image out again in the original file order of the
// sections: ELF header, section contents (each at its sh_addralign), then
// the section header table. New sections get new headers at the end of the
// table, so no existing index (sh_link, sh_info, st_shndx, groups) moves.
func rewrite(l *layout, img []byte, file string, repl []replacement) ([]byte, error) {
	if l.phnum != 0 {
		return nil, fmt.Errorf("%s: %d program headers at offset %#x: only relocatable objects can be rewritten: %w",
			file, l.phnum, l.phoff, ErrUnsupported)
	}
	if len(l.sections) == 0 {
		return nil, fmt.Errorf("%s: no section header table: %w", file, ErrUnsupported)
	}

	secs := slices.Clone(l.sections)
	data := make([][]byte, len(secs))
	for i := range secs {
		data[i] = l.contents(img, i)
	}
	names := slices.Clone(l.names)
	var strtab []byte // the grown section name table, when we add a name

	for _, r := range repl {
		if idx := l.find(r.name); len(idx) > 0 {
			i := idx[0]
			if err := checkReplaceable(l, img, file, i, r.data); err != nil {
				return nil, err
			}
			data[i] = r.data
			secs[i].size = uint64(len(r.data))
			continue
		}
		if l.shstrndx == 0 {
			return nil, fmt.Errorf("%s: adding %s: no section name table (e_shstrndx is 0): %w", file, r.name, ErrUnsupported)
		}
		if strtab == nil {
			strtab = slices.Clone(data[l.shstrndx])
		}
		// What llvm-objcopy --add-section (pahole's tool) produces: plain
		// contents, not loaded (the loader reads it from the file copy and
		// then frees it), byte-aligned.
		secs = append(secs, shdr{
			name:  uint32(len(strtab)),
			typ:   elf.SHT_PROGBITS,
			size:  uint64(len(r.data)),
			align: 1,
		})
		data = append(data, r.data)
		names = append(names, r.name)
		strtab = append(append(strtab, r.name...), 0)
	}
	if strtab != nil {
		data[l.shstrndx] = strtab
		secs[l.shstrndx].size = uint64(len(strtab))
	}

	// File order: by original offset, ties by index; new sections last.
	order := make([]int, 0, len(secs)-1)
	for i := 1; i < len(secs); i++ {
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ka, kb := uint64(math.MaxUint64), uint64(math.MaxUint64)
		if a < len(l.sections) {
			ka = l.sections[a].off
		}
		if b < len(l.sections) {
			kb = l.sections[b].off
		}
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return a - b
	})

	var added uint64
	for _, r := range repl {
		added += uint64(len(r.data))
	}
	// Alignment padding is the only growth we add ourselves; bound it so a
	// hostile sh_addralign cannot make us allocate gigabytes.
	limit := 2*uint64(len(img)) + added + maxAlign

	cur := uint64(len(l.ehdr))
	for _, i := range order {
		a := secs[i].align
		if a > maxAlign || a&(a-1) != 0 {
			return nil, fmt.Errorf("%s: section %d (%s): sh_addralign %#x is not a power of two up to %#x: %w",
				file, i, names[i], a, maxAlign, ErrUnsupported)
		}
		off := alignUp(cur, a)
		secs[i].off = off
		if hasContents(secs[i]) {
			cur = off + uint64(len(data[i]))
		}
		if cur > limit {
			return nil, fmt.Errorf("%s: section %d (%s): laying out would exceed %d bytes: %w",
				file, i, names[i], limit, ErrTooLarge)
		}
	}
	shoff := alignUp(cur, wordSize(l))
	total := shoff + uint64(len(secs))*uint64(l.shentsize())
	// Every offset and size is below total, so this also keeps ELF32 header
	// fields from overflowing.
	if !l.is64() && total > math.MaxUint32 {
		return nil, fmt.Errorf("%s: ELF32 output would be %d bytes: %w", file, total, ErrTooLarge)
	}

	out := make([]byte, total)
	copy(out, l.ehdr)
	for _, i := range order {
		// An empty SHT_NOBITS at a large alignment may sit past the end:
		// it has no bytes, so only its header says where.
		if hasContents(secs[i]) {
			copy(out[secs[i].off:], data[i])
		}
	}

	// Extended numbering once the count no longer fits e_shnum, or when the
	// input already used it.
	shnum, shstrndx := len(secs), l.shstrndx
	eShnum, eShstrndx := uint16(shnum), uint16(shstrndx)
	if l.extShnum || shnum >= shnLoReserve {
		eShnum = 0
		secs[0].size = uint64(shnum)
	}
	if l.extStrndx || shstrndx >= shnLoReserve {
		eShstrndx = shnXIndex
		secs[0].link = uint32(shstrndx)
	}
	ent := l.shentsize()
	for i, s := range secs {
		l.encodeShdr(out[shoff+uint64(i*ent):], s)
	}

	o := l.order
	phoffAt, shoffAt, ehsizeAt := l.ehdrOffsets()
	if l.is64() {
		o.PutUint64(out[phoffAt:], 0)
		o.PutUint64(out[shoffAt:], shoff)
	} else {
		o.PutUint32(out[phoffAt:], 0)
		o.PutUint32(out[shoffAt:], uint32(shoff))
	}
	o.PutUint16(out[ehsizeAt+6:], uint16(ent))
	o.PutUint16(out[ehsizeAt+8:], eShnum)
	o.PutUint16(out[ehsizeAt+10:], eShstrndx)
	return out, nil
}

// checkReplaceable refuses to change the bytes of a section something else
// points into: relocations would patch the wrong place, a symbol table would
// read the wrong names. Modules have none of that for .BTF or .BTF.base.
func checkReplaceable(l *layout, img []byte, file string, i int, data []byte) error {
	s := l.sections[i]
	if !hasContents(s) || s.flags&elf.SHF_COMPRESSED != 0 {
		return fmt.Errorf("%s: section %d (%s) at offset %#x is not plain contents: %w",
			file, i, l.names[i], s.off, ErrUnsupported)
	}
	if bytes.Equal(l.contents(img, i), data) {
		return nil
	}
	if i == l.shstrndx {
		return fmt.Errorf("%s: section %d (%s) is the section name table: %w", file, i, l.names[i], ErrUnsupported)
	}
	for j, r := range l.sections {
		if j == 0 || j == i {
			continue
		}
		if (r.typ == elf.SHT_REL || r.typ == elf.SHT_RELA) && r.info == uint32(i) {
			return fmt.Errorf("%s: section %d (%s) has relocations in section %d (%s): %w",
				file, i, l.names[i], j, l.names[j], ErrUnsupported)
		}
		if r.link == uint32(i) {
			return fmt.Errorf("%s: section %d (%s) is the sh_link of section %d (%s): %w",
				file, i, l.names[i], j, l.names[j], ErrUnsupported)
		}
	}
	return nil
}

func wordSize(l *layout) uint64 {
	if l.is64() {
		return 8
	}
	return 4
}

// alignUp rounds n up to a multiple of a (a power of two, or 0/1 for none).
func alignUp(n, a uint64) uint64 {
	if a <= 1 {
		return n
	}
	return (n + a - 1) &^ (a - 1)
}
