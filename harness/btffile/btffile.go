// Package btffile opens whatever a user names as BTF: a raw blob (a .BTF
// section's bytes, a /sys/kernel/btf file), an ELF vmlinux, a module (.ko)
// or a compressed module (.ko.xz). The format is found from the content,
// never from the file name.
package btffile

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// Format is what a file turned out to be.
type Format string

// The formats Load recognises.
const (
	FormatRaw Format = "raw BTF"
	FormatELF Format = "ELF"
	FormatXZ  Format = "xz-compressed ELF"
)

// ErrNoBTF is returned for an ELF file without a .BTF section.
var ErrNoBTF = errors.New("no .BTF section")

// File is the BTF found in one file. BTF and Base alias the file's
// contents (or the module's decompressed image): do not modify them.
type File struct {
	Path   string
	Format Format
	BTF    []byte // the BTF blob (.BTF for an ELF file)
	Base   []byte // the .BTF.base section, nil when absent
	Module *kmod.Module
}

// Load reads path and finds its BTF. The File aliases the file's contents
// (mapped, not copied), except for a compressed module: nothing refers to
// the compressed bytes once they are inflated, and they are let go.
func Load(path string) (*File, error) {
	data, release, err := readFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(data, path)
	if err != nil || f.Format == FormatXZ {
		release()
	}
	return f, err
}

// WithoutImage returns f with copies of its BTF and .BTF.base, and no
// Module: for a caller that needs only those, so that a module's image (a
// decompressed amdgpu is 29 MB, ten times its .BTF) can be collected.
func (f *File) WithoutImage() *File {
	c := &File{Path: f.Path, Format: f.Format, BTF: bytes.Clone(f.BTF)}
	if f.Base != nil {
		c.Base = bytes.Clone(f.Base)
	}
	return c
}

var (
	elfMagic = []byte("\x7fELF")
	xzMagic  = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
)

// Parse finds the BTF in data, which was read from path. The File refers
// to data: do not modify it afterwards.
func Parse(data []byte, path string) (*File, error) {
	f := &File{Path: path}
	switch {
	case bytes.HasPrefix(data, elfMagic) || bytes.HasPrefix(data, xzMagic):
		f.Format = FormatELF
		if data[0] == xzMagic[0] {
			f.Format = FormatXZ
		}
		m, err := kmod.Parse(data, path)
		if err != nil {
			return nil, err
		}
		f.Module = m
		var ok bool
		if f.BTF, ok = m.BTFView(); !ok {
			return nil, fmt.Errorf("%s: %w", path, ErrNoBTF)
		}
		f.Base, _ = m.BTFBaseView()
	case len(data) >= 2 && (data[0] == 0x9f && data[1] == 0xeb || data[0] == 0xeb && data[1] == 0x9f):
		f.Format, f.BTF = FormatRaw, data
	default:
		return nil, fmt.Errorf("%s: neither raw BTF (magic 0xeb9f), ELF nor xz: %w", path, btf.ErrBadMagic)
	}
	return f, nil
}

// Spec decodes the file's BTF. Its base is, in this order: base if not nil;
// the file's own .BTF.base; none (standalone BTF).
func (f *File) Spec(base *btf.Spec) (*btf.Spec, error) {
	what := ".BTF"
	if f.Format == FormatRaw {
		what = "BTF"
	}
	if base == nil && f.Base != nil {
		var err error
		if base, err = btf.Parse(f.Base); err != nil {
			return nil, fmt.Errorf("%s: .BTF.base: %w", f.Path, err)
		}
	}
	var s *btf.Spec
	var err error
	if base != nil {
		s, err = btf.ParseSplit(f.BTF, base)
	} else {
		s, err = btf.Parse(f.BTF)
	}
	if err != nil {
		hint := ""
		switch {
		case base != nil:
		case f.Module != nil:
			hint = " (a module's .BTF without .BTF.base is split BTF: give its vmlinux as the base)"
		case errors.Is(err, btf.ErrBadStrings) || errors.Is(err, btf.ErrStringRange) || errors.Is(err, btf.ErrTypeIDRange):
			hint = " (split BTF? give the BTF it is split on as the base)"
		}
		return nil, fmt.Errorf("%s: %s: %w%s", f.Path, what, err, hint)
	}
	return s, nil
}

// LoadSpec loads path's BTF, on the BTF of basePath if that is not "".
func LoadSpec(path, basePath string) (*btf.Spec, *File, error) {
	var base *btf.Spec
	if basePath != "" {
		bf, err := Load(basePath)
		if err != nil {
			return nil, nil, err
		}
		if base, err = bf.Spec(nil); err != nil {
			return nil, nil, err
		}
	}
	f, err := Load(path)
	if err != nil {
		return nil, nil, err
	}
	s, err := f.Spec(base)
	return s, f, err
}
