package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// TestProcessLeavesNoFiles runs the built binary with its home, cache and
// config directories and its working directory in empty temporary
// directories: a verb that only reads must leave them empty. (u-root's
// builder, once linked in for the initramfs, made ~/.cache/goimports in
// every process, --version included.)
func TestProcessLeavesNoFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the btfrecon binary")
	}
	bin := filepath.Join(t.TempDir(), "btfrecon")
	build := exec.Command(goCommand(), "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	in := t.TempDir()
	b := btf.NewBuilder(binary.LittleEndian, nil)
	b.Int("int", 4, btf.IntSigned)
	small := filepath.Join(in, "small.btf")
	if err := os.WriteFile(small, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		stdout string
	}{
		{"version", []string{"--version"}, "btfrecon "},
		{"help", []string{"--help"}, "verbs:"},
		{"check", []string{"check", small}, "round trip byte-identical"},
		{"dump", []string{"dump", small}, "[1] INT 'int' size=4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dirs := map[string]string{}
			for _, d := range []string{"home", "cache", "config", "cwd", "tmp"} {
				dirs[d] = filepath.Join(root, d)
				if err := os.Mkdir(dirs[d], 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(bin, tc.args...)
			cmd.Dir = dirs["cwd"]
			cmd.Env = append(withoutVars(os.Environ(), "HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "BTFRECON_CACHE", "TMPDIR"),
				"HOME="+dirs["home"], "XDG_CACHE_HOME="+dirs["cache"], "XDG_CONFIG_HOME="+dirs["config"], "TMPDIR="+dirs["tmp"])
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("btfrecon %s: %v\n%s", strings.Join(tc.args, " "), err, stderr.Bytes())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout %q, want it to hold %q", stdout.String(), tc.stdout)
			}
			var made []string
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					t.Error(err)
					return nil
				}
				if rel, _ := filepath.Rel(root, p); strings.Contains(rel, string(filepath.Separator)) {
					made = append(made, rel)
				}
				return nil
			})
			if len(made) > 0 {
				t.Errorf("btfrecon %s made %s", strings.Join(tc.args, " "), strings.Join(made, ", "))
			}
		})
	}
}

// goCommand is the go command that runs this test.
func goCommand() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	g := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(g); errors.Is(err, fs.ErrNotExist) {
		return "go"
	}
	return g
}

// withoutVars drops the named variables from env.
func withoutVars(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || name == n
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
