package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The committed series/0001 must be what the core makes: a core change
// without `make series` fails here, not only in make patch-check.
func TestSeries0001UpToDate(t *testing.T) {
	kp := filepath.Join("..", "..", "kernel-patch")
	want, err := generate(kp, patch1)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(filepath.Join(kp, patch1.out))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Fatalf("series/0001 is stale: run make series (first difference at byte %d)", firstDiff(have, want))
	}
}

// The generator writes what git format-patch writes, for files of other
// sizes than today's core (stat scaling, number width, one-line hunks).
func TestMatchesGitFormatPatch(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	for _, n := range []int{1, 2, 40, 799, 1234} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			git := func(args ...string) string {
				t.Helper()
				cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t",
					"-c", "user.email=t@example.org", "-c", "core.abbrev=9"}, args...)...)
				cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("git %v: %v: %s", args, err, out)
				}
				return string(out)
			}
			write := func(p, s string) {
				t.Helper()
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			git("init", "-q")
			write("MAINTAINERS", "a\nb\nc\n")
			write("kernel/bpf/Makefile", "x\ny\n")
			git("add", ".")
			git("commit", "-q", "-m", "base")
			write("MAINTAINERS", "a\nb\nB\n")
			write("kernel/bpf/Makefile", "x\nx2\ny\n")
			var c strings.Builder
			for i := range n {
				fmt.Fprintf(&c, "line %d\n", i)
			}
			write("kernel/bpf/new.c", c.String())
			write("kernel/bpf/new.h", "h\n")
			git("add", ".")
			git("commit", "-q", "-m", "change")
			ref := git("format-patch", "--stdout", "-1")

			// the sources: the message, the two kept diffs, the new files
			cut := strings.Index(ref, "\n---\n") + 1
			kept := ref[strings.Index(ref, "diff --git a/MAINTAINERS"):strings.Index(ref, "diff --git a/kernel/bpf/new.c")]
			write("src/msg", ref[:cut])
			write("src/diff", kept)
			write("src/new.c", c.String())
			write("src/new.h", "h\n")
			got, err := generate(filepath.Join(dir, "src"), spec{msg: "msg", diff: "diff", add: []newFile{
				{"new.h", "kernel/bpf/new.h"}, {"new.c", "kernel/bpf/new.c"},
			}})
			if err != nil {
				t.Fatal(err)
			}
			// the signature names the git that made the series, not this one
			ref = ref[:strings.LastIndex(ref, "-- \n")] + signature
			if string(got) != ref {
				i := firstDiff(got, []byte(ref))
				t.Fatalf("differs from git format-patch at byte %d:\n%s\ngit:\n%s", i, tail(got, i), tail([]byte(ref), i))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func tail(b []byte, i int) string {
	s := max(i-200, 0)
	return string(b[s:min(i+200, len(b))])
}
