package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// files writes a base ([1] int, [2] struct foo size 8), a split holding a
// struct that embeds foo, and a target where foo grew.
func files(t *testing.T) (dir string) {
	dir = t.TempDir()
	mk := func(fooSize uint32) *btf.Builder {
		b := btf.NewBuilder(binary.LittleEndian, nil)
		i := b.Int("int", 4, btf.IntSigned)
		b.Struct("foo", fooSize, btf.Member{Name: "a", Type: i})
		return b
	}
	bb := mk(8)
	base, err := bb.Spec()
	if err != nil {
		t.Fatal(err)
	}
	sb := btf.NewBuilder(binary.LittleEndian, base)
	sb.Struct("bar", 16, btf.Member{Name: "f", Type: 2}, btf.Member{Name: "n", Type: 1, Offset: 64})
	for name, data := range map[string][]byte{
		"base.btf": bb.Bytes(), "split.btf": sb.Bytes(), "grown.btf": mk(16).Bytes(), "junk": []byte("not btf at all"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCLI(t *testing.T) {
	dir := files(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	ko := filepath.Join("..", "..", "harness", "kmod", "testdata", "tiny-x86_64.ko")
	koBytes, err := os.ReadFile(ko)
	if err != nil {
		t.Fatal(err)
	}
	// noinfo.o: the module with its .modinfo section renamed away, as an
	// object file that never went through modpost.
	noinfo := bytes.Replace(koBytes, []byte(".modinfo\x00"), []byte(".modinfX\x00"), 1)
	baseBytes, _ := os.ReadFile(p("base.btf"))
	splitBytes, _ := os.ReadFile(p("split.btf"))
	small := btf.NewBuilder(binary.LittleEndian, nil)
	small.Int("int", 4, btf.IntSigned)
	for name, data := range map[string][]byte{"own.ko": koBytes, "noinfo.o": noinfo, "copy.btf": baseBytes, "small.btf": small.Bytes()} {
		if err := os.WriteFile(p(name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("base.btf", p("base-link.btf")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // substring expected on stdout
		stderr string // substring expected on stderr
	}{
		{"no verb", nil, 2, "verbs:", ""},
		{"help", []string{"--help"}, 0, "distill", ""},
		{"unknown verb", []string{"frob"}, 2, "", `unknown verb "frob"`},
		{"dump", []string{"dump", p("base.btf")}, 0, "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n[2] STRUCT 'foo' size=8 vlen=1\n\t'a' type_id=1 bits_offset=0\n", ""},
		{"dump split, flag after file", []string{"dump", p("split.btf"), "--base", p("base.btf")}, 0, "[3] STRUCT 'bar' size=16 vlen=2\n\t'f' type_id=2 bits_offset=0\n", ""},
		{"dump split without its base", []string{"dump", p("split.btf")}, 2, "", "string section does not start with \"\": bad string section (split BTF? give the BTF it is split on as the base)"},
		{"check", []string{"check", p("base.btf")}, 0, "round trip byte-identical", ""},
		{"check junk", []string{"check", p("junk")}, 2, "", "neither raw BTF (magic 0xeb9f), ELF nor xz: bad magic"},
		{"check missing", []string{"check", p("nope")}, 2, "", "no such file"},
		{"check two files", []string{"check", p("base.btf"), p("split.btf")}, 2, "", "want exactly one FILE"},
		{"distill", []string{"distill", "--base", p("base.btf"), "--split", p("split.btf"), "--out-base", p("d.btf"), "--out-split", p("s2.btf")}, 0, "distilled base: 2 types", ""},
		{"distill without outputs", []string{"distill", "--base", p("base.btf")}, 2, "", "are required"},
		{"relocate onto the same base", []string{"relocate", "--distilled", p("d.btf"), "--split", p("s2.btf"), "--target", p("base.btf"), "--out", p("r.btf")}, 0, "relocated: 2 distilled types matched", ""},
		{"relocate with the map", []string{"relocate", "--map", "--distilled", p("d.btf"), "--split", p("s2.btf"), "--target", p("base.btf")}, 0,
			"[1] INT 'int' size=4 -> [1] INT 'int' size=4\n[2] STRUCT 'foo' size=8 -> [2] STRUCT 'foo' size=8\n", ""},
		{"relocate onto a grown foo", []string{"relocate", "--distilled", p("d.btf"), "--split", p("s2.btf"), "--target", p("grown.btf")}, 1, "",
			"distilled type: [2] STRUCT 'foo' size=8 (embedded in a split struct/union: sizes must match)\n  embedded by: [3] STRUCT 'bar' size=16, member 'f'\n  candidate [2] STRUCT 'foo' size=16: refused: embedded: size 16, distilled size 8\n  errno: -EINVAL (-22)"},
		{"inject", []string{"inject", ko, "--btf", p("s2.btf"), "--btf-base", p("d.btf"), "-o", p("out.ko")}, 0, "and .BTF.base", ""},
		{"dump the injected module on its .BTF.base", []string{"dump", p("out.ko")}, 0, "[3] STRUCT 'bar' size=16 vlen=2", ""},
		{"relocate the injected module", []string{"relocate", "--ko", p("out.ko"), "--target", p("base.btf")}, 0, "relocated", ""},
		{"inject a mismatched pair", []string{"inject", ko, "--btf", p("split.btf"), "--btf-base", p("d.btf"), "-o", p("bad.ko")}, 2, "", "on --btf-base " + p("d.btf")},

		// Outputs never overwrite inputs, nor each other.
		{"relocate --out is --target", []string{"relocate", "--distilled", p("d.btf"), "--split", p("s2.btf"), "--target", p("base.btf"), "--out", p("base.btf")},
			2, "", "--out " + p("base.btf") + " names the same file as the input --target"},
		{"relocate --out is --target through a link", []string{"relocate", "--distilled", p("d.btf"), "--split", p("s2.btf"), "--target", p("base.btf"), "--out", p("base-link.btf")},
			2, "", "names the same file as the input --target"},
		{"relocate --out onto an input, forced", []string{"relocate", "--distilled", p("d.btf"), "--split", p("s2.btf"), "--target", p("base.btf"), "--out", p("copy.btf"), "--force"},
			0, "relocated", ""},
		{"distill --out-split is --split", []string{"distill", "--base", p("base.btf"), "--split", p("split.btf"), "--out-base", p("d3.btf"), "--out-split", p("split.btf")},
			2, "", "--out-split " + p("split.btf") + " names the same file as the input --split"},
		{"distill both outputs in one file", []string{"distill", "--base", p("base.btf"), "--split", p("split.btf"), "--out-base", p("x.btf"), "--out-split", p("x.btf")},
			2, "", "two outputs in one file"},
		{"inject -o is the module", []string{"inject", p("own.ko"), "--btf", p("s2.btf"), "--btf-base", p("d.btf"), "-o", p("own.ko")},
			2, "", "-o " + p("own.ko") + " names the same file as the input MODULE"},

		// Exit classes: a file that is not what the flag wants is bad input.
		{"relocate --ko on raw BTF", []string{"relocate", "--ko", p("s2.btf"), "--target", p("base.btf")}, 2, "", "is raw BTF, not a module"},
		{"relocate --target a module", []string{"relocate", "--ko", p("out.ko"), "--target", p("out.ko")}, 2, "", "--target " + p("out.ko") + " is a module"},
		{"relocate --target a split", []string{"relocate", "--ko", p("out.ko"), "--target", p("s2.btf")}, 2, "", "(split BTF? it must be the running kernel's vmlinux BTF)"},
		{"relocate --distilled junk names the flag and file", []string{"relocate", "--distilled", p("junk"), "--split", p("s2.btf"), "--target", p("base.btf")},
			2, "", "--distilled: " + p("junk")},
		{"distill on the wrong vmlinux", []string{"distill", "--base", p("small.btf"), "--split", p("split.btf"), "--out-base", p("d4.btf"), "--out-split", p("s4.btf")},
			2, "", "(built on another vmlinux? --base must be the one the module was built against)"},

		// inject writes what the output name says and refuses what would not load.
		{"inject -o .ko.xz", []string{"inject", ko, "--btf", p("s2.btf"), "--btf-base", p("d.btf"), "-o", p("out.ko.xz")}, 0, "and .BTF.base", ""},
		{"inject -o .ko.zst", []string{"inject", ko, "--btf", p("s2.btf"), "--btf-base", p("d.btf"), "-o", p("out.ko.zst")}, 2, "", "only .ko or .ko.xz"},
		{"inject a split without its base, unchecked", []string{"inject", ko, "--btf", p("s2.btf"), "-o", p("nobase.ko")}, 2, "", "give --vmlinux"},
		{"inject a split checked on the wrong vmlinux", []string{"inject", ko, "--btf", p("s2.btf"), "--vmlinux", p("small.btf"), "-o", p("nobase.ko")},
			2, "", "split on a distilled base? give --btf-base"},
		{"inject a split on vmlinux", []string{"inject", ko, "--btf", p("split.btf"), "--vmlinux", p("base.btf"), "-o", p("plain.ko")}, 0, "wrote .BTF", ""},
		{"inject into an object without .modinfo", []string{"inject", p("noinfo.o"), "--btf", p("s2.btf"), "--btf-base", p("d.btf"), "-o", p("o.ko")},
			2, "", "no .modinfo section"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &env{stdout: &out, stderr: &errb})
			if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant stdout containing %q, stderr containing %q",
					code, tc.code, out.String(), errb.String(), tc.stdout, tc.stderr)
			}
		})
	}
	// Nothing half-written is left by a refused inject.
	if _, err := os.Stat(p("bad.ko")); err == nil {
		t.Fatal("a refused inject left its output behind")
	}
	for name, want := range map[string][]byte{"base.btf": baseBytes, "split.btf": splitBytes, "own.ko": koBytes} {
		if got, _ := os.ReadFile(p(name)); !bytes.Equal(got, want) {
			t.Errorf("input %s was changed", name)
		}
	}
	xzd, _ := os.ReadFile(p("out.ko.xz"))
	m, err := kmod.Parse(xzd, "out.ko.xz")
	if err != nil || !m.Compressed {
		t.Fatalf("inject -o out.ko.xz: %v (compressed %v)", err, m != nil && m.Compressed)
	}
	if _, ok := m.BTFBase(); !ok {
		t.Fatal("inject -o out.ko.xz: no .BTF.base")
	}
}

func TestVersionAndExamples(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--version"}, &env{stdout: &out, stderr: &errb}); code != 0 || !strings.HasPrefix(out.String(), "btfrecon ") {
		t.Fatalf("--version: exit %d, %q", code, out.String())
	}
	for name := range verbs {
		if lean && harnessVerbNames[name] {
			continue // in-process only in the full build; TestBinaries runs them through btfrecon-harness
		}
		out.Reset()
		errb.Reset()
		if code := run([]string{name, "--help"}, &env{stdout: &out, stderr: &errb}); code != 0 {
			t.Errorf("%s --help: exit %d", name, code)
		}
		if h := errb.String(); !strings.Contains(h, "example") || !strings.Contains(h, "\n  btfrecon "+name) {
			t.Errorf("%s --help has no example:\n%s", name, errb.String())
		}
	}
}

// harnessVerbNames are the verbs the lean build hands to btfrecon-harness.
var harnessVerbNames = map[string]bool{"kernels": true, "compat": true, "vm": true, "repro": true, "module": true, "validate": true}

// TestUsageMatchesFlags: every --flag a verb's usage line names is a flag
// the verb defines.
func TestUsageMatchesFlags(t *testing.T) {
	flagRe := regexp.MustCompile(`(?:^|[\s\[(|])--?([a-z][a-z0-9-]*)`)
	for name, v := range verbs {
		if lean && harnessVerbNames[name] {
			continue
		}
		args := []string{name, "--help"}
		if name == "vm" {
			args = []string{"vm", "run", "--help"}
		}
		var out, errb bytes.Buffer
		run(args, &env{stdout: &out, stderr: &errb})
		defined := map[string]bool{}
		for _, l := range strings.Split(errb.String(), "\n") {
			if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(l, "  -") {
				defined[strings.TrimPrefix(f[0], "-")] = true
			}
		}
		for _, m := range flagRe.FindAllStringSubmatch(v.usage, -1) {
			if !defined[m[1]] {
				t.Errorf("%s: usage names --%s, which is not a flag of it (flags: %v)", name, m[1], defined)
			}
		}
	}
}
