package kmod

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"strings"
)

// ScaledLoad is an arm64 load whose address comes from a scaled 12-bit
// relocation (R_AARCH64_LDST{16,32,64,128}_ABS_LO12_NC): the immediate is
// the address divided by the access size, and the kernel's module loader
// (apply_relocate_add) drops the remainder unchecked, so an address the
// size does not divide is read from the boundary below it.
type ScaledLoad struct {
	Section string // the section holding the instruction
	Offset  uint64 // the instruction's offset in it
	Type    elf.R_AARCH64
	Target  string // the section read
	Addr    uint64 // what is read: the target's place (see ReadOnlyPlace) plus the addend
	Size    uint64 // the access size the relocation scales by
}

// Misaligned says how many bytes below Addr the load really reads.
func (l ScaledLoad) Misaligned() uint64 { return l.Addr % l.Size }

func (l ScaledLoad) String() string {
	return fmt.Sprintf("%s+%#x: %v reads %s at %#x, %d bytes past a %d-byte boundary", l.Section, l.Offset, l.Type, l.Target, l.Addr, l.Misaligned(), l.Size)
}

var scaledSize = map[elf.R_AARCH64]uint64{
	elf.R_AARCH64_LDST16_ABS_LO12_NC:  2,
	elf.R_AARCH64_LDST32_ABS_LO12_NC:  4,
	elf.R_AARCH64_LDST64_ABS_LO12_NC:  8,
	elf.R_AARCH64_LDST128_ABS_LO12_NC: 16,
}

// ReadOnlyPlace is where the module loader puts each read-only section of
// a module (SHF_ALLOC without SHF_WRITE or SHF_EXECINSTR, not .init*): in
// section header order, each at the next multiple of its alignment, from
// the start of the module's read-only memory, which is page aligned.
func ReadOnlyPlace(f *elf.File) map[string]uint64 {
	at := map[string]uint64{}
	var off uint64
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Flags&(elf.SHF_WRITE|elf.SHF_EXECINSTR) != 0 || strings.HasPrefix(s.Name, ".init") {
			continue
		}
		if a := s.Addralign; a > 1 {
			off = (off + a - 1) / a * a
		}
		at[s.Name] = off
		off += s.Size
	}
	return at
}

// ScaledLoads lists the scaled loads of an arm64 module that read section
// target (".BTF_ids": the BTF id lists C code reads as u32 arrays) at the
// place ReadOnlyPlace gives it. A module of another machine has none.
func ScaledLoads(image []byte, target string) ([]ScaledLoad, error) {
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotELF, err)
	}
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
		return nil, nil
	}
	place, ok := ReadOnlyPlace(f)[target]
	if !ok {
		return nil, nil
	}
	syms, err := f.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("%w: symbols: %v", ErrMalformed, err)
	}
	var out []ScaledLoad
	for _, rs := range f.Sections {
		if rs.Type != elf.SHT_RELA || int(rs.Info) >= len(f.Sections) {
			continue
		}
		data, err := rs.Data()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, rs.Name, err)
		}
		for b := data; len(b) >= 24; b = b[24:] {
			off, info, addend := f.ByteOrder.Uint64(b), f.ByteOrder.Uint64(b[8:]), int64(f.ByteOrder.Uint64(b[16:]))
			typ := elf.R_AARCH64(elf.R_TYPE64(info))
			size, scaled := scaledSize[typ]
			si := int(elf.R_SYM64(info))
			if !scaled || si == 0 || si > len(syms) {
				continue
			}
			sym := syms[si-1] // Symbols drops the null symbol 0
			if int(sym.Section) >= len(f.Sections) || f.Sections[sym.Section].Name != target {
				continue
			}
			out = append(out, ScaledLoad{Section: f.Sections[rs.Info].Name, Offset: off, Type: typ, Target: target,
				Addr: place + sym.Value + uint64(addend), Size: size})
		}
	}
	return out, nil
}
