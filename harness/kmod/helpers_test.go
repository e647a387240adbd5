package kmod

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testdata files: small relocatables with a real 126-byte .BTF (see gen.sh).
var testdataFiles = []string{
	"tiny-x86_64.ko",
	"tiny-i386.ko",
	"tiny-s390x.ko",
	"tiny-ppc32.ko",
	"tiny-x86_64-signed.ko.xz",
	"tiny-x86_64.ko.zst",
	"tiny-x86_64.ko.gz",
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func needTools(tb testing.TB, tools ...string) {
	tb.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s not installed", tool)
		}
	}
}

func run(tb testing.TB, name string, args ...string) (stdout, stderr string) {
	tb.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, e.String())
	}
	return o.String(), e.String()
}

// buildObject compiles src with the host gcc and, when btf is non-nil, gives
// the object a .BTF section with objcopy, as pahole does.
func buildObject(tb testing.TB, src string, btf []byte, cflags ...string) string {
	tb.Helper()
	needTools(tb, "gcc", "objcopy")
	dir := tb.TempDir()
	c := filepath.Join(dir, "m.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	obj := filepath.Join(dir, "m.o")
	args := append([]string{"-O1", "-c", c, "-o", obj}, cflags...)
	var e bytes.Buffer
	cmd := exec.Command("gcc", args...)
	cmd.Stderr = &e
	if err := cmd.Run(); err != nil {
		tb.Skipf("gcc %v: %v: %s", cflags, err, e.String())
	}
	if btf == nil {
		return obj
	}
	bin := filepath.Join(dir, "btf.bin")
	if err := os.WriteFile(bin, btf, 0o644); err != nil {
		tb.Fatal(err)
	}
	ko := filepath.Join(dir, "m.ko")
	run(tb, "objcopy", "--add-section", ".BTF="+bin, obj, ko)
	return ko
}

const tinySource = `
static const char modinfo[] __attribute__((section(".modinfo"), used, aligned(1))) =
	"license=GPL\0name=built";
int v = 42;
int *p = &v;
int get(int a) { return a + v; }
`

// readelfClean runs readelf over the whole file and fails on any complaint;
// it returns the section listing.
func readelfClean(tb testing.TB, path string) string {
	tb.Helper()
	needTools(tb, "readelf")
	// readelf reports problems as "readelf: Warning: ..." / "Error" on
	// stderr; stdout may legitimately say "warn" (symbols like _dev_warn).
	if _, stderr := run(tb, "readelf", "-a", "-W", path); stderr != "" {
		tb.Errorf("readelf -a %s complains:\n%s", path, stderr)
	}
	sections, stderr := run(tb, "readelf", "-S", "-W", path)
	if stderr != "" {
		tb.Errorf("readelf -S %s complains:\n%s", path, stderr)
	}
	return sections
}

// sameSections checks that out has every section of in, at the same index
// and with the same header fields apart from the offset, and the same bytes,
// except for the sections named in changed. It returns out's sections.
func sameSections(tb testing.TB, in, out []byte, changed ...string) []*elf.Section {
	tb.Helper()
	fi, err := elf.NewFile(bytes.NewReader(in))
	if err != nil {
		tb.Fatal(err)
	}
	fo, err := elf.NewFile(bytes.NewReader(out))
	if err != nil {
		tb.Fatalf("debug/elf rejects our output: %v", err)
	}
	if len(fo.Sections) < len(fi.Sections) {
		tb.Fatalf("output has %d sections, input %d", len(fo.Sections), len(fi.Sections))
	}
	li, err := parseLayout(in, "in")
	if err != nil {
		tb.Fatal(err)
	}
	if fi.FileHeader != fo.FileHeader {
		tb.Errorf("file header changed: %+v -> %+v", fi.FileHeader, fo.FileHeader)
	}
	for i, si := range fi.Sections {
		so := fo.Sections[i]
		hi, ho := si.SectionHeader, so.SectionHeader
		hi.Offset, ho.Offset = 0, 0
		isChanged := false
		for _, c := range changed {
			isChanged = isChanged || si.Name == c
		}
		if isChanged || i == li.shstrndx {
			hi.Size, ho.Size, hi.FileSize, ho.FileSize = 0, 0, 0, 0
		}
		if i == 0 && li.extShnum {
			hi.Size, ho.Size, hi.FileSize, ho.FileSize = 0, 0, 0, 0
		}
		if hi != ho {
			tb.Errorf("section %d header: %+v -> %+v", i, si.SectionHeader, so.SectionHeader)
		}
		if isChanged || si.Type == elf.SHT_NOBITS || si.Type == elf.SHT_NULL {
			continue
		}
		di, _ := si.Data()
		do, _ := so.Data()
		if i == li.shstrndx {
			// Names may only be appended.
			do = do[:min(len(do), len(di))]
		}
		if !bytes.Equal(di, do) {
			tb.Errorf("section %d (%s): bytes changed", i, si.Name)
		}
		if si.Addralign > 1 && so.Offset%si.Addralign != 0 {
			tb.Errorf("section %d (%s): offset %#x not aligned to %d", i, si.Name, so.Offset, si.Addralign)
		}
	}
	return fo.Sections
}
