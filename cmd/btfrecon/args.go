package main

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/btffile"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// pathArg is a file named by a flag (or a positional argument).
type pathArg struct {
	flag, path string
}

func (a pathArg) String() string { return a.flag + " " + a.path }

// checkOutputs refuses an output that names an input or another output:
// the same path, or the same file through a link. Without it, `relocate
// --target V --out V` turns a vmlinux BTF into a module's split.
func checkOutputs(force bool, inputs, outputs []pathArg) error {
	if force {
		return nil
	}
	for i, out := range outputs {
		if out.path == "" {
			continue
		}
		for _, in := range inputs {
			if in.path != "" && sameFile(in.path, out.path) {
				return usageError{fmt.Sprintf("%s names the same file as the input %s: refusing to overwrite an input (--force to allow)", out, in)}
			}
		}
		for _, other := range outputs[:i] {
			if other.path != "" && sameFile(other.path, out.path) {
				return usageError{fmt.Sprintf("%s names the same file as %s: two outputs in one file (--force to allow)", out, other)}
			}
		}
	}
	return nil
}

// sameFile: a and b are one existing file (hard or symbolic links
// included), or one path that does not exist yet.
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	return resolved(a) == resolved(b)
}

// resolved is path made absolute with its directory's links followed.
func resolved(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(dir, filepath.Base(abs))
	}
	return abs
}

// isModule: an ELF relocatable object, as modules are (a vmlinux is an
// executable).
func isModule(f *btffile.File) bool { return f.Module != nil && f.Module.Type == elf.ET_REL }

// loadStandalone reads the file a flag names as standalone BTF: a vmlinux
// (ELF or raw), or a distilled base. A module or a split is bad input.
func loadStandalone(a pathArg, what string) (*btf.Spec, *btffile.File, error) {
	f, err := btffile.Load(a.path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", a.flag, err)
	}
	if isModule(f) {
		return nil, nil, usageError{fmt.Sprintf("%s is a module; it must be %s", a, what)}
	}
	s, err := btf.Parse(f.BTF)
	if err != nil {
		hint := ""
		if errors.Is(err, btf.ErrStringRange) || errors.Is(err, btf.ErrTypeIDRange) || errors.Is(err, btf.ErrBadStrings) {
			hint = " (split BTF? it must be " + what + ")"
		}
		return nil, nil, fmt.Errorf("%s: %s: %w%s", a.flag, a.path, err, hint)
	}
	return s, f, nil
}

// compressionFor is what an output module's name asks for: xz for .xz
// (modprobe reads the content, but an .xz name holding a plain ELF fails
// it), nothing for anything else but the compressions we do not write.
func compressionFor(out string) (func([]byte) ([]byte, error), error) {
	switch filepath.Ext(out) {
	case ".xz":
		return kmod.CompressXZ, nil
	case ".gz", ".zst":
		return nil, usageError{fmt.Sprintf("-o %s: only .ko or .ko.xz are written", out)}
	}
	return func(b []byte) ([]byte, error) { return b, nil }, nil
}
