package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"testing"

	"github.com/btfrecon/btfrecon/harness/diff"
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
