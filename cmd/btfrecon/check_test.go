package main

import (
	"bytes"
	"math/rand/v2"
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
