package kmod

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Section names the kernel's module loader looks up.
const (
	SectionBTF     = ".BTF"
	SectionBTFBase = ".BTF.base"
	sectionModinfo = ".modinfo"
)

// Module is a parsed kernel module: the ELF image with the signature and the
// compression taken off, plus what we learnt on the way.
type Module struct {
	// Name is the file name without directory and without .ko / .ko.xz.
	Name string
	// ModinfoName is the name= entry of .modinfo, "" when there is none.
	ModinfoName string
	// Compressed says the input was an xz stream.
	Compressed bool

	Class     elf.Class
	ByteOrder binary.ByteOrder
	Machine   elf.Machine
	Type      elf.Type

	file   string // for error messages
	image  []byte // the ELF image, signature stripped
	sig    []byte
	layout *layout
	btf    int // section index, 0 when absent
	base   int
}

// Open reads and parses a .ko or .ko.xz file.
func Open(path string) (*Module, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kmod: %w", err)
	}
	return Parse(data, path)
}

// Parse parses a module held in memory; name is the file it came from (only
// its base name matters for Module.Name; all of it appears in errors). When
// data is not compressed, the Module keeps referring to it: do not modify
// data afterwards.
func Parse(data []byte, name string) (*Module, error) {
	m := &Module{Name: moduleName(name), file: name}
	image, compressed, err := decompress(data, name)
	if err != nil {
		return nil, err
	}
	m.Compressed = compressed
	if m.image, m.sig, err = splitSignature(image, name); err != nil {
		return nil, err
	}
	if m.layout, err = parseLayout(m.image, name); err != nil {
		return nil, err
	}

	// debug/elf is the second opinion: our own decoder keeps the exact bytes
	// for rewriting, debug/elf keeps us honest about what a standard reader
	// accepts. Both must agree before we hand anything out.
	f, err := elf.NewFile(bytes.NewReader(m.image))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: debug/elf: %w", name, ErrMalformed, err)
	}
	if len(f.Sections) != len(m.layout.sections) {
		return nil, fmt.Errorf("%s: debug/elf sees %d sections, the header table at offset %#x has %d: %w",
			name, len(f.Sections), m.layout.shoff, len(m.layout.sections), ErrMalformed)
	}
	m.Class, m.ByteOrder, m.Machine, m.Type = f.Class, f.ByteOrder, f.Machine, f.Type

	if m.btf, err = m.uniqueSection(SectionBTF); err != nil {
		return nil, err
	}
	if m.base, err = m.uniqueSection(SectionBTFBase); err != nil {
		return nil, err
	}
	if idx := m.layout.find(sectionModinfo); len(idx) > 0 {
		m.ModinfoName = modinfoValue(m.layout.contents(m.image, idx[0]), "name")
	}
	return m, nil
}

// uniqueSection finds a BTF section the loader would read: at most one, with
// contents (not SHT_NOBITS), not compressed (the loader does not inflate sections).
func (m *Module) uniqueSection(name string) (int, error) {
	idx := m.layout.find(name)
	switch {
	case len(idx) == 0:
		return 0, nil
	case len(idx) > 1:
		return 0, fmt.Errorf("%s: %d sections named %s (indices %v): %w", m.file, len(idx), name, idx, ErrMalformed)
	}
	s := m.layout.sections[idx[0]]
	if !hasContents(s) {
		return 0, fmt.Errorf("%s: section %d (%s) is %v: %w", m.file, idx[0], name, s.typ, ErrMalformed)
	}
	if s.flags&elf.SHF_COMPRESSED != 0 {
		return 0, fmt.Errorf("%s: section %d (%s) at offset %#x is SHF_COMPRESSED: %w", m.file, idx[0], name, s.off, ErrUnsupported)
	}
	return idx[0], nil
}

// BTF returns a copy of the .BTF section; ok is false when there is none.
func (m *Module) BTF() (data []byte, ok bool) { return m.sectionCopy(m.btf) }

// BTFBase returns a copy of the .BTF.base section; ok is false when there is none.
func (m *Module) BTFBase() (data []byte, ok bool) { return m.sectionCopy(m.base) }

// BTFView is BTF without the copy: the bytes alias the module's image (the
// data Parse was given, for an uncompressed module) and must not be
// modified.
func (m *Module) BTFView() (data []byte, ok bool) { return m.sectionView(m.btf) }

// BTFBaseView is BTFBase without the copy, as BTFView.
func (m *Module) BTFBaseView() (data []byte, ok bool) { return m.sectionView(m.base) }

// Section returns a copy of the first section called name (nil when it
// occupies no file bytes, like SHT_NOBITS); ok is false when there is none.
func (m *Module) Section(name string) (data []byte, ok bool) {
	idx := m.layout.find(name)
	if len(idx) == 0 {
		return nil, false
	}
	return m.sectionCopy(idx[0])
}

func (m *Module) sectionCopy(i int) ([]byte, bool) {
	b, ok := m.sectionView(i)
	return bytes.Clone(b), ok
}

func (m *Module) sectionView(i int) ([]byte, bool) {
	if i == 0 {
		return nil, false
	}
	return m.layout.contents(m.image, i), true // capacity ends with the section
}

// Size is the length of the ELF image (what ELF returns), without copying it.
func (m *Module) Size() int { return len(m.image) }

// ELF returns a copy of the ELF image, without compression and signature.
func (m *Module) ELF() []byte { return bytes.Clone(m.image) }

// Signed says whether the input carried an appended module signature.
func (m *Module) Signed() bool { return m.sig != nil }

// Signature returns a copy of the appended signature block (signature,
// struct module_signature and trailer), nil when unsigned. Any rewrite
// invalidates it, which is why WithSections drops it.
func (m *Module) Signature() []byte { return bytes.Clone(m.sig) }

// moduleName strips the directory and the module suffixes from a file name.
func moduleName(path string) string {
	base := filepath.Base(path)
	for _, suf := range []string{".ko.xz", ".ko.zst", ".ko.gz", ".ko"} {
		if s, ok := strings.CutSuffix(base, suf); ok && s != "" {
			return s
		}
	}
	return base
}

// modinfoValue finds key=value in .modinfo's NUL-separated entries.
func modinfoValue(modinfo []byte, key string) string {
	prefix := []byte(key + "=")
	for entry := range bytes.SplitSeq(modinfo, []byte{0}) {
		if v, ok := bytes.CutPrefix(entry, prefix); ok {
			return string(v)
		}
	}
	return ""
}
