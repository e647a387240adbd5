package kmod

import (
	"bytes"
	"debug/elf"
	"fmt"
	"strings"
)

// SectionBTFIDs is where a module's BTF id lists and sets live
// (include/linux/btf_ids.h): words that resolve_btfids fills with type ids
// at build time, pointed at by __BTF_ID__* symbols.
const SectionBTFIDs = ".BTF_ids"

// BTFIDSym is one __BTF_ID__* symbol in .BTF_ids: its full name, and its
// offset and size within the section (st_value less the section's sh_addr,
// as resolve_btfids computes it; st_size is what gives a set its length).
type BTFIDSym struct {
	Name      string
	Off, Size uint64
}

// BTFIDs returns a copy of the module's .BTF_ids section and, in symbol
// table order, every symbol named __BTF_ID__* defined in it. ok is false
// when the module has no .BTF_ids (nothing for resolve_btfids to do).
func (m *Module) BTFIDs() (data []byte, syms []BTFIDSym, ok bool, err error) {
	idx := m.layout.find(SectionBTFIDs)
	if len(idx) == 0 {
		return nil, nil, false, nil
	}
	if len(idx) > 1 {
		return nil, nil, false, fmt.Errorf("%s: %d sections named %s: %w", m.file, len(idx), SectionBTFIDs, ErrMalformed)
	}
	sec := idx[0]
	data = bytes.Clone(m.layout.contents(m.image, sec))
	f, err := elf.NewFile(bytes.NewReader(m.image))
	if err != nil {
		return nil, nil, false, fmt.Errorf("%s: %w: debug/elf: %w", m.file, ErrMalformed, err)
	}
	all, err := f.Symbols()
	if err != nil {
		return nil, nil, false, fmt.Errorf("%s: symbol table: %w: %w", m.file, ErrMalformed, err)
	}
	addr := m.layout.sections[sec].addr
	for _, s := range all {
		if int(s.Section) != sec || !strings.HasPrefix(s.Name, "__BTF_ID__") {
			continue
		}
		if s.Value < addr || s.Value-addr > uint64(len(data)) {
			return nil, nil, false, fmt.Errorf("%s: symbol %s at %#x lies outside %s (%d bytes at %#x): %w",
				m.file, s.Name, s.Value, SectionBTFIDs, len(data), addr, ErrMalformed)
		}
		syms = append(syms, BTFIDSym{Name: s.Name, Off: s.Value - addr, Size: s.Size})
	}
	return data, syms, true, nil
}

// WithBTFSections is WithSections that also replaces .BTF_ids with btfIDs
// (nil leaves it). The new .BTF_ids must be as long as the old one: code
// and relocations refer into it by offset.
func (m *Module) WithBTFSections(btf, btfBase, btfIDs []byte) ([]byte, error) {
	if btfIDs == nil {
		return m.WithSections(btf, btfBase)
	}
	idx := m.layout.find(SectionBTFIDs)
	if len(idx) != 1 {
		return nil, fmt.Errorf("%s: replacing %s: %d such sections: %w", m.file, SectionBTFIDs, len(idx), ErrUnsupported)
	}
	if old := m.layout.contents(m.image, idx[0]); len(old) != len(btfIDs) {
		return nil, fmt.Errorf("%s: replacing %s: %d bytes for a section of %d: %w", m.file, SectionBTFIDs, len(btfIDs), len(old), ErrUnsupported)
	}
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
	repl = append(repl, replacement{SectionBTFIDs, btfIDs})
	return rewrite(m.layout, m.image, m.file, repl)
}
