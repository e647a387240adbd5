package btffile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
)

const kmodData = "../kmod/testdata"

func TestLoad(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(kmodData, "btf.bin")) // Debian nls_ascii's .BTF
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file   string
		format Format
		err    error
	}{
		{"btf.bin", FormatRaw, nil},
		{"tiny-x86_64.ko", FormatELF, nil},
		{"tiny-s390x.ko", FormatELF, nil},
		{"tiny-x86_64-signed.ko.xz", FormatXZ, nil},
		{"tiny.c", "", btf.ErrBadMagic},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := Load(filepath.Join(kmodData, tc.file))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Format != tc.format || len(f.BTF) == 0 || f.Base != nil {
				t.Fatalf("format %q, %d BTF bytes, base %v", f.Format, len(f.BTF), f.Base != nil)
			}
			if tc.format == FormatRaw && string(f.BTF) != string(raw) {
				t.Fatal("raw file not returned as is")
			}
		})
	}
}

// A module's .BTF is split BTF: decoding it alone must fail with a hint.
func TestSplitWithoutBaseHint(t *testing.T) {
	f, err := Load(filepath.Join(kmodData, "tiny-x86_64.ko"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Spec(nil)
	if err == nil || !strings.Contains(err.Error(), "give its vmlinux as the base") {
		t.Fatalf("error %v, want the split-BTF hint", err)
	}
}

// TestLoadUnmappable: what cannot be mapped (a pipe, an empty file, a
// directory) is read as before: the same contents, the same errors.
func TestLoadUnmappable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(kmodData, "btf.bin"))
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		w.Write(raw)
		w.Close()
	}()
	f, err := Load(fmt.Sprintf("/proc/self/fd/%d", r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != FormatRaw || string(f.BTF) != string(raw) {
		t.Fatalf("pipe: format %q, %d bytes, want the %d raw bytes", f.Format, len(f.BTF), len(raw))
	}

	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(empty); !errors.Is(err, btf.ErrBadMagic) {
		t.Fatalf("empty file: %v, want %v", err, btf.ErrBadMagic)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("directory: %v, want os.ReadFile's error", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestWithoutImage: copies of .BTF and .BTF.base, equal and not aliasing
// the module, no Module.
func TestWithoutImage(t *testing.T) {
	f, err := Load(filepath.Join(kmodData, "tiny-x86_64-signed.ko.xz"))
	if err != nil {
		t.Fatal(err)
	}
	c := f.WithoutImage()
	if c.Module != nil || c.Path != f.Path || c.Format != f.Format || string(c.BTF) != string(f.BTF) || (c.Base == nil) != (f.Base == nil) {
		t.Fatalf("WithoutImage: %+v", c)
	}
	if len(c.BTF) == 0 || &c.BTF[0] == &f.BTF[0] {
		t.Fatal("BTF not copied")
	}
}
