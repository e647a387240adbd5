//go:build !lean

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Usage errors of `module`, caught before anything is fetched or built.
func TestModuleUsage(t *testing.T) {
	src := t.TempDir()
	for name, data := range map[string]string{"Kbuild": "obj-m := m.o\n", "m.c": "", "old.ko": "stale"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "m.ko")
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"nothing", []string{"module"}, "want build SRC_DIR, chroot or call MODULE.ko"},
		{"no kernel", []string{"module", "build", src, "-o", out}, "--kernel RELEASE is required"},
		{"bad kernel", []string{"module", "build", src, "--kernel", "six", "-o", out}, "bad kernel release"},
		{"bad arch", []string{"module", "build", src, "--kernel", "7.2.13+deb14", "--arch", "riscv64", "-o", out}, `bad --arch "riscv64"`},
		{"bad distiller", []string{"module", "build", src, "--kernel", "7.2.13+deb14", "--distiller", "pahole", "-o", out}, `bad --distiller "pahole"`},
		{"no output", []string{"module", "build", src, "--kernel", "7.2.13+deb14"}, "-o OUT.ko is required"},
		{"two sources", []string{"module", "build", src, src, "--kernel", "7.2.13+deb14", "-o", out}, "build takes one SRC_DIR"},
		{"output is an input", []string{"module", "build", src, "--kernel", "7.2.13+deb14", "-o", filepath.Join(src, "old.ko")}, "refusing to overwrite an input"},
		{"output is a directory", []string{"module", "build", src, "--kernel", "7.2.13+deb14", "-o", src}, "is a directory"},
		{"unknown subcommand", []string{"module", "frob", "--kernel", "7.2.13+deb14"}, `unknown subcommand "frob"`},
		{"call without --kfunc", []string{"module", "call", "m.ko", "--kernel", "7.2.13+deb14"}, "call takes MODULE.ko, --kernel and --kfunc NAME"},
		{"call on arm64", []string{"module", "call", "m.ko", "--kernel", "7.2.13+deb14", "--arch", "arm64", "--kfunc", "f"}, "call boots amd64 guests only"},
		{"chroot with -o", []string{"module", "chroot", "--kernel", "7.2.13+deb14", "-o", out}, "chroot takes --kernel and --arch only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o, e bytes.Buffer
			code := run(tc.args, &env{stdout: &o, stderr: &e})
			if code != 2 || !strings.Contains(e.String(), tc.stderr) {
				t.Fatalf("exit %d (want 2)\nstderr:\n%s\nwant %q", code, e.String(), tc.stderr)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(src, "old.ko")); string(b) != "stale" {
		t.Error("an input was overwritten")
	}
}
