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
	if err := copyFiles(src, out); err != nil {
		return nil, err
	}
	if logText, err := b.makeModules(ctx, out, vars, log); err != nil {
		return nil, fmt.Errorf("%w: %s against %s (Linux %s %s): %w\n%s", ErrModule, src, b.Dir, b.Version, b.Arch,
			err, indent(lastLines(logText, 12)))
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

// BuildModules builds several out-of-tree module directories against b in
// one make (a top Kbuild descending into a copy of each: one modpost, make
// -j over all of them). When that fails, each is built alone to tell which
// fail: failed maps a source directory to its error, the others' .ko files
// are returned.
func (b *Build) BuildModules(ctx context.Context, srcs []string, out string, vars []string, jobs int, log io.Writer) (kos []string, failed map[string]error, err error) {
	if err := os.RemoveAll(out); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, nil, err
	}
	var top strings.Builder
	sub := make([]string, len(srcs))
	for i, s := range srcs {
		sub[i] = fmt.Sprintf("%d-%s", i, filepath.Base(s))
		if err := copyFiles(s, filepath.Join(out, sub[i])); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(&top, "obj-m += %s/\n", sub[i])
	}
	if err := os.WriteFile(filepath.Join(out, "Kbuild"), []byte(top.String()), 0o644); err != nil {
		return nil, nil, err
	}
	if jobs <= 0 {
		jobs = 2
	}
	if _, err := b.makeModules(ctx, out, append(vars, fmt.Sprintf("-j%d", jobs)), log); err == nil {
		for _, s := range sub {
			k, _ := filepath.Glob(filepath.Join(out, s, "*.ko"))
			sort.Strings(k)
			kos = append(kos, k...)
		}
		return kos, nil, nil
	}
	failed = map[string]error{}
	for i, s := range srcs {
		k, err := b.BuildModule(ctx, s, filepath.Join(out, "alone", sub[i]), vars, log)
		if err != nil {
			failed[s] = err
			continue
		}
		kos = append(kos, k...)
	}
	return kos, failed, nil
}

func copyFiles(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrModule, err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// makeModules runs make M=dir modules against b.
func (b *Build) makeModules(ctx context.Context, dir string, vars []string, log io.Writer) (string, error) {
	args := append([]string{"-C", b.Dir}, b.MakeArgs()...)
	args = append(args, vars...)
	args = append(args, "M="+dir, "modules")
	var buf strings.Builder
	w := io.Writer(&buf)
	if log != nil {
		w = io.MultiWriter(&buf, log)
	}
	fmt.Fprintf(w, "+ make %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "make", args...)
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	return buf.String(), err
}
