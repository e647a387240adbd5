package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/btfrecon/btfrecon/harness/diff"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/harness/kmod"
)

// TestCompareWriter: check's streaming comparison finds what comparing the
// whole encoding would (diff.FirstDiff), however the output is cut into
// writes: equal, a byte changed, output longer or shorter than the input.
func TestCompareWriter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	want := make([]byte, 1000)
	for i := range want {
		want[i] = byte(r.Uint32())
	}
	changed := bytes.Clone(want)
	changed[617] ^= 1
	for _, out := range [][]byte{want, changed, append(bytes.Clone(want), 0), want[:999], want[:0], append(bytes.Clone(want[:500]), 7)} {
		expect := -1
		if !bytes.Equal(out, want) {
			expect = diff.FirstDiff(out, want)
		}
		for range 20 {
			c := &compareWriter{want: want, at: -1}
			for rest := out; len(rest) > 0; {
				n := min(len(rest), 1+r.IntN(300))
				c.Write(rest[:n])
				rest = rest[n:]
			}
			if got := c.firstDiff(); got != expect || c.n != len(out) {
				t.Fatalf("output of %d bytes: first difference %d, %d bytes counted; want %d, %d", len(out), got, c.n, expect, len(out))
			}
		}
	}
}

// TestOneShot: a one-shot verb runs without collections until the heap
// nears oneShotLimit and puts the settings back after; GOGC in the
// environment wins.
func TestOneShot(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	os.Unsetenv("GOGC")
	os.Unsetenv("GOMEMLIMIT")
	prev := debug.SetGCPercent(77)
	defer debug.SetGCPercent(prev)
	limit0 := debug.SetMemoryLimit(-1)
	restore := oneShot()
	if gc := debug.SetGCPercent(-1); gc != -1 {
		t.Fatalf("GC percent %d during the verb, want -1 (off)", gc)
	}
	if limit := debug.SetMemoryLimit(-1); limit != oneShotLimit {
		t.Fatalf("memory limit %d during the verb, want %d", limit, oneShotLimit)
	}
	restore()
	if gc := debug.SetGCPercent(77); gc != 77 {
		t.Fatalf("GC percent %d after the verb, want 77 back", gc)
	}
	if limit := debug.SetMemoryLimit(-1); limit != limit0 {
		t.Fatalf("memory limit %d after the verb, want %d back", limit, limit0)
	}

	t.Setenv("GOGC", "50")
	oneShot()()
	if gc := debug.SetGCPercent(77); gc != 77 {
		t.Fatalf("with GOGC set, the verb changed the GC percent to %d", gc)
	}
}

// TestDistillModuleFile: distill reading a Debian .ko.xz (its image let go
// once the .BTF is copied out) writes what distill of the module's raw
// .BTF writes, and relocate --ko of the injected module what relocate of
// the raw pair writes. Real data: skipped without the cache, unless
// BTFRECON_REQUIRE_DATA=1.
func TestDistillModuleFile(t *testing.T) {
	k, err := kernels.Open("6.12.107", "amd64")
	if err == nil {
		_, err = os.Stat(k.BTFPath())
	}
	if err != nil {
		if os.Getenv("BTFRECON_REQUIRE_DATA") == "1" {
			t.Fatal(err)
		}
		t.Skipf("real data not cached: run make testdata (%v)", err)
	}
	ko, err := k.Module("nls_ascii")
	if err != nil {
		t.Fatal(err)
	}
	m, err := kmod.Open(ko)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := m.BTF()
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	if err := os.WriteFile(p("raw.btf"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, &env{stdout: &out, stderr: &errb}); code != 0 {
			t.Fatalf("btfrecon %v: exit %d: %s", args, code, errb.String())
		}
	}
	same := func(a, b string) {
		t.Helper()
		x, _ := os.ReadFile(p(a))
		y, _ := os.ReadFile(p(b))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Fatalf("%s and %s differ (%d and %d bytes)", a, b, len(x), len(y))
		}
	}
	cli("distill", "--base", k.BTFPath(), "--split", ko, "--out-base", p("k.d"), "--out-split", p("k.s2"))
	cli("distill", "--base", k.BTFPath(), "--split", p("raw.btf"), "--out-base", p("r.d"), "--out-split", p("r.s2"))
	same("k.d", "r.d")
	same("k.s2", "r.s2")

	s2, _ := os.ReadFile(p("k.s2"))
	d, _ := os.ReadFile(p("k.d"))
	img, err := m.WithSections(s2, d)
	if err == nil {
		img, err = kmod.CompressXZ(img)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p("distilled.ko.xz"), img, 0o644); err != nil {
		t.Fatal(err)
	}
	cli("relocate", "--ko", p("distilled.ko.xz"), "--target", k.BTFPath(), "--out", p("k.r"))
	cli("relocate", "--distilled", p("k.d"), "--split", p("k.s2"), "--target", k.BTFPath(), "--out", p("r.r"))
	same("k.r", "r.r")
}
