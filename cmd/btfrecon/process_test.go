package main

import (
	"bytes"
	"debug/elf"
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

// TestBinaries builds btfrecon both ways, the full build (go build) and the
// lean one (-tags lean, make btfrecon), and runs them as processes.
func TestBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the btfrecon binary twice")
	}
	dir := t.TempDir()
	full, lean := filepath.Join(dir, "full", "btfrecon"), filepath.Join(dir, "lean", "btfrecon")
	for bin, tags := range map[string]string{full: "", lean: "lean"} {
		build := exec.Command(goCommand(), "build", "-tags", tags, "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build -tags %q: %v\n%s", tags, err, out)
		}
	}
	t.Run("no files left/full", func(t *testing.T) { leavesNoFiles(t, full) })
	t.Run("no files left/lean", func(t *testing.T) { leavesNoFiles(t, lean) })
	t.Run("lean", func(t *testing.T) { leanBuild(t, full, lean) })
}

// leanBuild: the lean build links none of the harness verbs' packages, lists
// every verb, and runs a harness verb in btfrecon-harness beside it, or
// says that it is missing (exit 2).
func leanBuild(t *testing.T, full, lean string) {
	f, err := elf.Open(lean)
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		for _, pkg := range []string{"harness/vm.", "harness/scenario.", "harness/kernels.", "github.com/cilium/ebpf"} {
			if strings.Contains(s.Name, pkg) {
				t.Fatalf("the lean build links %s (%s)", pkg, s.Name)
			}
		}
	}
	runBin := func(bin string, args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = withoutVars(os.Environ(), "BTFRECON_HARNESS")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
	}
	want, _, _ := runBin(full, "--help")
	if got, _, code := runBin(lean, "--help"); got != want || code != 0 {
		t.Errorf("lean --help (exit %d):\n%s\nwant the full build's:\n%s", code, got, want)
	}
	_, stderr, code := runBin(lean, "kernels", "--help")
	if code != 2 || !strings.Contains(stderr, "btfrecon-harness, not found at "+filepath.Join(filepath.Dir(lean), "btfrecon-harness")) {
		t.Errorf("kernels without btfrecon-harness: exit %d, stderr %q", code, stderr)
	}
	if err := os.Link(full, filepath.Join(filepath.Dir(lean), "btfrecon-harness")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"kernels", "--help"}, {"vm", "run", "--help"}, {"compat", "--frob"}} {
		wantOut, wantErr, wantCode := runBin(full, args...)
		gotOut, gotErr, gotCode := runBin(lean, args...)
		if gotOut != wantOut || gotErr != wantErr || gotCode != wantCode {
			t.Errorf("lean %q: exit %d, stdout %q, stderr %q; want the full build's exit %d, %q, %q",
				args, gotCode, gotOut, gotErr, wantCode, wantOut, wantErr)
		}
	}
}

// leavesNoFiles runs bin with its home, cache and config directories and
// its working directory in empty temporary directories: a verb that only
// reads must leave them empty. (u-root's builder, once linked in for the
// initramfs, made ~/.cache/goimports in every process, --version included.)
func leavesNoFiles(t *testing.T, bin string) {
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
