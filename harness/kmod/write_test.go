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
)

// checkAddBase replaces .BTF with btf, adds base as .BTF.base, and checks
// the result with debug/elf, with our own reader and with binutils.
func checkAddBase(t *testing.T, m *Module, btf, base []byte) []byte {
	t.Helper()
	out, err := m.WithSections(btf, base)
	if err != nil {
		t.Fatal(err)
	}
	secs := sameSections(t, m.ELF(), out, SectionBTF, SectionBTFBase)
	n := len(m.layout.sections)
	if len(secs) != n+1 || secs[n].Name != SectionBTFBase {
		t.Fatalf("want .BTF.base appended as section %d", n)
	}
	if h := secs[n].SectionHeader; h.Type != elf.SHT_PROGBITS || h.Flags != 0 || h.Addralign != 1 || h.Link != 0 || h.Info != 0 {
		t.Errorf(".BTF.base header %+v, want what llvm-objcopy --add-section makes", h)
	}

	back, err := Parse(out, m.file)
	if err != nil {
		t.Fatalf("our output does not parse: %v", err)
	}
	if b, ok := back.BTF(); !ok || !bytes.Equal(b, btf) {
		t.Error(".BTF not read back")
	}
	if b, ok := back.BTFBase(); !ok || !bytes.Equal(b, base) {
		t.Error(".BTF.base not read back")
	}
	if back.Signed() || back.ModinfoName != m.ModinfoName {
		t.Errorf("read back: signed %v, modinfo name %q", back.Signed(), back.ModinfoName)
	}

	// Replacing again with the same bytes is a fixed point.
	again, err := back.WithSections(btf, base)
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("second rewrite differs (err %v)", err)
	}

	if _, err := os.Stat("/usr/bin/readelf"); err != nil {
		return out
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "out.ko")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if listing := readelfClean(t, path); !strings.Contains(listing, " .BTF.base ") {
		t.Errorf("readelf does not list .BTF.base:\n%s", listing)
	}
	// Host objcopy knows only x86 targets; it reads others as generic ELF
	// at best, so only ask it about what it can open.
	if m.Machine == elf.EM_X86_64 || m.Machine == elf.EM_386 {
		needTools(t, "objcopy")
		dump := filepath.Join(dir, "base.bin")
		run(t, "objcopy", "--dump-section", ".BTF.base="+dump, path, filepath.Join(dir, "scratch.o"))
		if got, err := os.ReadFile(dump); err != nil || !bytes.Equal(got, base) {
			t.Errorf("objcopy --dump-section .BTF.base: %q (%v), want %q", got, err, base)
		}
	}
	return out
}

func TestWithSectionsTestdata(t *testing.T) {
	btf := readTestdata(t, "btf.bin")
	for _, file := range testdataFiles {
		t.Run(file, func(t *testing.T) {
			m, err := Open(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			// Unchanged: every section identical (objcopy's layout need not
			// be ours, so offsets may differ).
			same, err := m.WithSections(btf, nil)
			if err != nil {
				t.Fatal(err)
			}
			sameSections(t, m.ELF(), same)
			if got, _ := m.WithSections(nil, nil); !bytes.Equal(got, same) {
				t.Error("WithSections(nil, nil) differs from WithSections(same .BTF, nil)")
			}

			// Shrink and grow .BTF, add .BTF.base of odd sizes: later
			// sections must move and stay aligned.
			checkAddBase(t, m, btf[:100], []byte("base"))
			checkAddBase(t, m, append(bytes.Clone(btf), btf...), bytes.Repeat([]byte{0x9f, 0xeb, 1}, 333))
			checkAddBase(t, m, []byte{}, []byte{})
		})
	}
}

func TestWithSectionsHostToolchain(t *testing.T) {
	btf := readTestdata(t, "btf.bin")
	for _, tc := range []struct {
		name   string
		cflags []string
		class  elf.Class
	}{
		{"elf64", nil, elf.ELFCLASS64},
		{"elf32", []string{"-m32"}, elf.ELFCLASS32},
		{"debuginfo", []string{"-g", "-ffunction-sections", "-fdata-sections"}, elf.ELFCLASS64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Open(buildObject(t, tinySource, btf, tc.cflags...))
			if err != nil {
				t.Fatal(err)
			}
			if m.Class != tc.class || m.ModinfoName != "built" {
				t.Fatalf("class %v, modinfo name %q", m.Class, m.ModinfoName)
			}
			checkAddBase(t, m, btf[:64], btf[64:])
		})
	}
}

func TestWithSectionsAddsBTF(t *testing.T) {
	m, err := Open(buildObject(t, tinySource, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.BTF(); ok {
		t.Fatal("object has .BTF before we add it")
	}
	if _, err := m.WithSections(nil, []byte("base")); !errors.Is(err, ErrNoBTF) || !strings.Contains(err.Error(), "m.o: adding .BTF.base") {
		t.Errorf("base without .BTF: %v, want ErrNoBTF", err)
	}
	out, err := m.WithSections([]byte("split"), []byte("base"))
	if err != nil {
		t.Fatal(err)
	}
	secs := sameSections(t, m.ELF(), out)
	n := len(m.layout.sections)
	if len(secs) != n+2 || secs[n].Name != SectionBTF || secs[n+1].Name != SectionBTFBase {
		t.Errorf("want .BTF and .BTF.base appended at %d and %d", n, n+1)
	}
}

func TestWithSectionsRefuses(t *testing.T) {
	// .BTF with a relocation in it: changing its bytes would leave the
	// relocation pointing into the wrong data.
	relocated := buildObject(t, `int v; int *btf_ptr __attribute__((section(".BTF"))) = &v;`, nil)
	// An executable has program headers: out of scope.
	dir := t.TempDir()
	exe := filepath.Join(dir, "a.out")
	src := filepath.Join(dir, "main.c")
	os.WriteFile(src, []byte("int main(void) { return 0; }\n"), 0o644)
	needTools(t, "gcc")
	run(t, "gcc", "-o", exe, src)

	// A symbol table whose string table is .BTF (hand-made: no tool does it).
	ko := readTestdata(t, "tiny-x86_64.ko")
	l, err := parseLayout(ko, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	symtab, btf := l.find(".symtab")[0], l.find(".BTF")[0]
	linked := bytes.Clone(ko)
	binary.LittleEndian.PutUint32(linked[int(l.shoff)+symtab*shdr64Size+40:], uint32(btf))
	readFile := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	for _, tc := range []struct {
		name      string
		data      []byte
		btf, base []byte
		msg       string
	}{
		{"relocations", readFile(relocated), []byte("new bytes"), nil, "has relocations in section"},
		{"sh_link", linked, []byte("new bytes"), nil, fmt.Sprintf("m.ko: section %d (.BTF) is the sh_link of section %d (.symtab)", btf, symtab)},
		{"program headers", readFile(exe), []byte("x"), nil, "program headers at offset 0x40: only relocatable objects can be rewritten"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.data, "m.ko")
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.WithSections(tc.btf, tc.base)
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, want ErrUnsupported with %q", err, tc.msg)
			}
		})
	}

	// Same bytes into a relocated .BTF is fine: nothing moves inside it.
	m, err := Open(relocated)
	if err != nil {
		t.Fatal(err)
	}
	same, _ := m.BTF()
	if _, err := m.WithSections(same, []byte("base")); err != nil {
		t.Errorf("unchanged relocated .BTF: %v", err)
	}
}

func TestWithSectionsExtendedNumbering(t *testing.T) {
	// 70000 sections: e_shnum and e_shstrndx overflow into section 0.
	needTools(t, "gcc", "readelf")
	var src strings.Builder
	for i := range 70000 {
		fmt.Fprintf(&src, "int v%d __attribute__((section(\".d%d\"))) = 1;\n", i, i)
	}
	if testing.Short() {
		t.Skip("builds a 70000-section object")
	}
	m, err := Open(buildObject(t, src.String(), []byte("btf")))
	if err != nil {
		t.Fatal(err)
	}
	if !m.layout.extShnum || !m.layout.extStrndx {
		t.Fatalf("gcc did not use extended numbering (ext shnum %v strndx %v)", m.layout.extShnum, m.layout.extStrndx)
	}
	checkAddBase(t, m, []byte("new btf"), []byte("base"))
}

func TestAlignUp(t *testing.T) {
	for _, tc := range []struct{ n, a, want uint64 }{
		{0, 0, 0}, {5, 1, 5}, {5, 4, 8}, {8, 4, 8}, {9, 4096, 4096}, {4097, 64, 4160},
	} {
		if got := alignUp(tc.n, tc.a); got != tc.want {
			t.Errorf("alignUp(%d, %d) = %d, want %d", tc.n, tc.a, got, tc.want)
		}
	}
}

func BenchmarkWithSections(b *testing.B) {
	m, err := Parse(readTestdata(b, "tiny-x86_64.ko"), "tiny.ko")
	if err != nil {
		b.Fatal(err)
	}
	btf := readTestdata(b, "btf.bin")
	for b.Loop() {
		if _, err := m.WithSections(btf, btf); err != nil {
			b.Fatal(err)
		}
	}
}
