package recon

import (
	"bytes"
	"errors"
	"flag"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/btfgen"
	"github.com/btfrecon/btfrecon/harness/oracle"
)

var genCases = flag.Int("gen.n", 2000, "generated differential cases to run against libbpf")

// TestGenerated runs random base + split BTF (harness/btfgen) through the
// model and both libbpf oracles: distill byte for byte (1.8's under its
// own header), then relocation onto the same base, a renumbered one and
// mutated ones, with the same verdicts and bytes.
func TestGenerated(t *testing.T) {
	type lib struct {
		o *oracle.Oracle
		b *oracle.Batch
	}
	var libs []lib
	for _, o := range oracles(t) {
		b, err := o.NewBatch()
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		libs = append(libs, lib{o, b})
	}
	var relocs, refusals, distFail, emptyBaseBug int
	verdicts := map[string]int{}
	for seed := range uint64(*genCases) {
		// Every other case draws names from a wide pool: fewer collisions,
		// more relocations that succeed.
		names := 0
		if seed%2 == 1 {
			names = 60
		}
		c, err := btfgen.New(seed, btfgen.Options{BigEndian: seed%7 == 3, Names: names})
		if err != nil {
			t.Fatal(err)
		}
		base, _ := btf.Parse(c.Base)
		split, _ := btf.ParseSplit(c.Split, base)
		d, s2, err := Distill(base, split)
		for _, l := range libs {
			od, os2, oerr := l.b.Distill(c.Base, c.Split)
			if Errno(err) != oracleErrno(oerr) {
				t.Fatalf("seed %d: distill: model %v, %s %v", seed, err, l.o.Name(), oerr)
			}
			if err != nil {
				continue
			}
			if d.NumLocal() == 0 && s2.NumLocal() > split.NumLocal() {
				// libbpf's bug (1.5 and 1.8), see TestUpstreamBugEmptyDistilledBase.
				checkEmptyBaseBug(t, split, od, os2)
				continue
			}
			dRaw, s2Raw := asWritten(t, l.o, d.Marshal()), asWritten(t, l.o, s2.Marshal())
			if !bytes.Equal(dRaw, od) || !bytes.Equal(s2Raw, os2) {
				t.Fatalf("seed %d: distill differs from %s:\n%s", seed, l.o.Name(), describeDiff(t, dRaw, od, s2Raw, os2))
			}
		}
		if err != nil {
			distFail++
			continue
		}
		if d.NumLocal() == 0 && s2.NumLocal() > split.NumLocal() {
			emptyBaseBug++
			continue
		}
		dRaw, s2Raw := d.Marshal(), s2.Marshal()
		for _, tg := range c.Targets {
			target, _ := btf.Parse(tg.BTF)
			rel, _, err := Relocate(d, s2, target)
			relocs++
			for _, l := range libs {
				orel, oerr := l.b.Relocate(dRaw, s2Raw, tg.BTF)
				if Errno(err) != oracleErrno(oerr) {
					t.Fatalf("seed %d, target %s: relocate: model %v, %s %v", seed, tg.Name, err, l.o.Name(), oerr)
				}
				if err == nil && !bytes.Equal(rel.Marshal(), orel) {
					t.Fatalf("seed %d, target %s: relocated bytes differ from %s", seed, tg.Name, l.o.Name())
				}
			}
			if err != nil {
				refusals++
				var re *Error
				errors.As(err, &re)
				verdicts[re.Reason.Error()]++
			}
		}
	}
	t.Logf("cases %d (distill refused by all: %d; libbpf's empty-distilled-base bug: %d), relocations %d (refused by all: %d), disagreements 0 (oracles: %d)",
		*genCases, distFail, emptyBaseBug, relocs, refusals, len(libs))
	for r, n := range verdicts {
		t.Logf("  %5d× %s", n, r)
	}
}

// checkEmptyBaseBug asserts libbpf's (1.5.0's and 1.8.0's) known wrong output when the
// distilled base is empty: the base types that should be copied into the
// new split are missing and references to them keep their old base ids.
func checkEmptyBaseBug(t *testing.T, split *btf.Spec, od, os2 []byte) {
	t.Helper()
	d, err := btf.Parse(od)
	if err != nil || d.NumLocal() != 0 {
		t.Fatalf("libbpf distilled base: %v, %d types; want an empty one", err, d.NumLocal())
	}
	if _, err := btf.ParseSplit(os2, d); !errors.Is(err, btf.ErrTypeIDRange) {
		// A reference to a missing copy can only be out of range if it
		// is above the split; otherwise it names a wrong type. Either
		// way the copies must be missing.
		s, err := btf.ParseSplit(os2, d)
		if err != nil || s.NumLocal() != split.NumLocal() {
			t.Fatalf("libbpf new split on an empty distilled base: %v; want the original %d types without the copies", err, split.NumLocal())
		}
	}
}
