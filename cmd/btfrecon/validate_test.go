//go:build !lean

package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/kbuild"
	"github.com/btfrecon/btfrecon/harness/scenario"
)

func TestValidateUsage(t *testing.T) {
	t.Setenv("BTFRECON_CACHE", t.TempDir())
	notTree := t.TempDir()
	os.WriteFile(filepath.Join(notTree, "Makefile"), []byte("all:\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		say  []string
	}{
		{"no tree", []string{"validate"}, 2, []string{"--tree is required"}},
		{"bad arch", []string{"validate", "--tree", notTree, "--arch", "riscv"}, 2, []string{"--arch must be amd64 or arm64"}},
		{"not a tree", []string{"validate", "--tree", notTree}, 2, []string{"not a kernel source tree", notTree, "has no Kconfig"}},
		{"missing", []string{"validate", "--tree", filepath.Join(notTree, "nope")}, 2, []string{"not a kernel source tree", "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &env{stdout: &out, stderr: &errb})
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errb.String())
			}
			for _, s := range tc.say {
				if !strings.Contains(errb.String(), s) {
					t.Errorf("stderr does not say %q:\n%s", s, errb.String())
				}
			}
		})
	}
}

func TestProfileFor(t *testing.T) {
	for _, tc := range []struct {
		major, minor int
		ok           bool
		first        string // kernel A's first amd64 fragment
	}{
		{6, 1, true, "vmimages/linux-6.1/minimal.config"},
		{6, 12, true, "kernel-patch/upstream/kernel/minimal-7.2.config"},
		{7, 2, true, "kernel-patch/upstream/kernel/minimal-7.2.config"},
		{6, 6, false, ""}, // no distilled base BTF before 6.11
		{5, 15, false, ""},
	} {
		p, err := profileFor(tc.major, tc.minor)
		if (err == nil) != tc.ok {
			t.Errorf("%d.%d: err %v, want ok=%v", tc.major, tc.minor, err, tc.ok)
			continue
		}
		if tc.ok && p.frags["amd64"][0] != tc.first {
			t.Errorf("%d.%d: A's fragment %s, want %s", tc.major, tc.minor, p.frags["amd64"][0], tc.first)
		}
		// every fragment and module directory a profile names exists
		for _, fs := range p.frags {
			for _, f := range fs {
				if _, err := os.Stat(filepath.Join("../..", f)); err != nil {
					t.Errorf("%d.%d: %v", tc.major, tc.minor, err)
				}
			}
		}
		for _, f := range append([]string{p.other, p.kasan, p.testModule}, p.modules...) {
			if f == "" {
				continue
			}
			if _, err := os.Stat(filepath.Join("../..", f)); err != nil {
				t.Errorf("%d.%d: %v", tc.major, tc.minor, err)
			}
		}
	}
}

func TestValidateText(t *testing.T) {
	r := &validateReport{Version: "7.2.13", Tree: "/usr/src/linux-source-7.2.tar.xz", Agree: false, Seconds: 812}
	r.Arch = "amd64"
	r.Builds = []*kbuild.Build{
		{Key: "e643dc8e2607bd1c", Fragments: []string{"/x/minimal-7.2.config", "/x/guest-7.2.config"}, Seconds: 540},
		{Key: "0123456789abcdef", Fragments: []string{"/x/minimal-7.2.config", "/x/guest-7.2.config", "/x/other.config"},
			Seconds: 61, Seed: "e643dc8e2607bd1c"},
	}
	for _, p := range []string{"build A", "build B", "modules", "boot B: modules, before/after, negative, hostile, kfunc rows",
		"boot A: the same, built on B", "boot B: the tree's own distiller", "extra phase one", "extra phase two"} {
		r.Phases = append(r.Phases, validatePhase{Phase: p, Seconds: 123.4})
	}
	rep := &scenario.Report{}
	rep.Summary.Disagreements = 2
	rep.Summary.BootVerdict = "clean"
	r.Runs = []validateRun{{Name: "model: modules built on A, distilled by the model, loaded on B", Report: rep}}
	var b bytes.Buffer
	writeValidateText(&b, r)
	out := b.String()
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 100 {
			t.Errorf("line over 100 columns (%d): %q", len(l), l)
		}
	}
	for _, want := range []string{
		"kernel A e643dc8e2607bd1c: minimal-7.2 + guest-7.2 (built in 540 s)\n",
		"kernel B 0123456789abcdef: minimal-7.2 + guest-7.2 + other (built in 61 s from A's objects)\n",
		"  model: 2 disagreements, boot clean\n",
		"validate: DISAGREE (812 s)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCompareIDs(t *testing.T) {
	spec := func(t *testing.T, add func(b *btf.Builder)) *btf.Spec {
		t.Helper()
		b := btf.NewBuilder(binary.LittleEndian, nil)
		add(b)
		s, err := b.Spec()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	intThenStruct := func(b *btf.Builder) {
		i := b.Int("int", 4, 1)
		b.Struct("s", 4, btf.Member{Name: "a", Type: i})
	}
	for _, tc := range []struct {
		name  string
		a, b  func(b *btf.Builder)
		moved int
		first btf.TypeID
	}{
		{"same", intThenStruct, intThenStruct, 0, 0},
		{"a function first moves every later id", intThenStruct, func(b *btf.Builder) {
			i := b.Int("int", 4, 1)
			b.Func("xbc_init", b.FuncProto(i), 0)
			b.Struct("s", 4, btf.Member{Name: "a", Type: i})
		}, 3, 2},
		{"a type added at the end", intThenStruct, func(b *btf.Builder) {
			intThenStruct(b)
			b.Int("long", 8, 1)
		}, 1, 3},
		{"a rename", intThenStruct, func(b *btf.Builder) {
			i := b.Int("int", 4, 1)
			b.Struct("t", 4, btf.Member{Name: "a", Type: i})
		}, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := compareIDs(spec(t, tc.a), spec(t, tc.b))
			if m.Moved != tc.moved || m.First != tc.first {
				t.Errorf("moved %d from %d, want %d from %d", m.Moved, m.First, tc.moved, tc.first)
			}
		})
	}
}

// TestValidateNoOracle: a 6.1 tree (our series' profile) is not validated
// on the model's word alone: without the libbpf oracle validate stops
// before building anything, exit 2, saying how to get it.
func TestValidateNoOracle(t *testing.T) {
	cacheDir := t.TempDir()
	t.Setenv("BTFRECON_CACHE", cacheDir)
	tree := t.TempDir()
	for p, body := range map[string]string{
		"Makefile": "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\n", "Kconfig": "", "scripts/kconfig/merge_config.sh": "",
		"kernel/bpf/btf.c": "", "arch/x86/Kconfig": "",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(tree, p)), 0o755)
		os.WriteFile(filepath.Join(tree, p), []byte(body), 0o644)
	}
	var out, errb bytes.Buffer
	code := run([]string{"validate", "--tree", tree}, &env{stdout: &out, stderr: &errb})
	if code != 2 || !strings.Contains(errb.String(), "the libbpf oracle is required for this tree (make oracle)") {
		t.Errorf("exit %d, want 2 naming the oracle; stderr:\n%s", code, errb.String())
	}
	if strings.Contains(errb.String(), "build A") {
		t.Errorf("a build started before the oracle was looked for:\n%s", errb.String())
	}
}
