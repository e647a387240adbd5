package kbuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// ErrModule is an out-of-tree module that does not build.
var ErrModule = errors.New("module build failed")

// BuildModule builds the out-of-tree module whose sources are the files
// of src (a Kbuild directory) against b, in out (a fresh copy of them:
// src is never written), with vars added to make's command line. It
// returns the .ko files made.
func (b *Build) BuildModule(ctx context.Context, src, out string, vars []string, log io.Writer) ([]string, error) {
	if err := os.RemoveAll(out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrModule, err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(out, e.Name()), data, 0o644); err != nil {
			return nil, err
		}
	}
	args := append([]string{"-C", b.Dir}, b.MakeArgs()...)
	args = append(args, vars...)
	args = append(args, "M="+out, "modules")
	var buf strings.Builder
	w := io.Writer(&buf)
	if log != nil {
		w = io.MultiWriter(&buf, log)
	}
	fmt.Fprintf(w, "+ make %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "make", args...)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s against %s (Linux %s %s): %w\n%s", ErrModule, src, b.Dir, b.Version, b.Arch,
			err, indent(lastLines(buf.String(), 12)))
	}
	kos, _ := filepath.Glob(filepath.Join(out, "*.ko"))
	sort.Strings(kos)
	if len(kos) == 0 {
		return nil, fmt.Errorf("%w: %s against %s made no .ko", ErrModule, src, b.Dir)
	}
	return kos, nil
}

// Release is the build's kernel release (include/config/kernel.release).
func (b *Build) Release() (string, error) {
	r, err := os.ReadFile(filepath.Join(b.Dir, "include/config/kernel.release"))
	if err != nil {
		return "", fmt.Errorf("kernel build %s: %w", b.Dir, err)
	}
	return strings.TrimSpace(string(r)), nil
}

// View lays dir out as a kernel directory holding b's vmlinux, boot image
// and config (links into the build) with the given modules installed
// under lib/modules/<release>/extra/, as modules_install would put
// external modules: what kernels.OpenPath reads. dir is made anew.
func (b *Build) View(dir string, modules []string) error {
	rel, err := b.Release()
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	extra := filepath.Join(dir, "lib", "modules", rel, "extra")
	if err := os.MkdirAll(extra, 0o755); err != nil {
		return err
	}
	for _, l := range []string{"vmlinux", ".config", b.Image, "include/config/kernel.release"} {
		p := filepath.Join(dir, l)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(filepath.Join(b.Dir, l), p); err != nil {
			return err
		}
	}
	for _, m := range modules {
		data, err := os.ReadFile(m)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(extra, filepath.Base(m)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
