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
// model and libbpf: distill byte for byte, then relocation onto the same
// base, a renumbered one and mutated ones, with the same verdicts and bytes.
func TestGenerated(t *testing.T) {
	o := oracle.Require(t)
	batch, err := o.NewBatch()
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Close()
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
		od, os2, oerr := batch.Distill(c.Base, c.Split)
		if Errno(err) != oracleErrno(oerr) {
			t.Fatalf("seed %d: distill: model %v, libbpf %v", seed, err, oerr)
		}
		if err != nil {
			distFail++
			continue
		}
		dRaw, s2Raw := d.Marshal(), s2.Marshal()
		if d.NumLocal() == 0 && s2.NumLocal() > split.NumLocal() {
			// libbpf 1.5.0 bug, see TestUpstreamBugEmptyDistilledBase.
			checkEmptyBaseBug(t, split, od, os2)
			emptyBaseBug++
			continue
		}
		if !bytes.Equal(dRaw, od) || !bytes.Equal(s2Raw, os2) {
			t.Fatalf("seed %d: distill differs from libbpf:\n%s", seed, describeDiff(t, dRaw, od, s2Raw, os2))
		}
		for _, tg := range c.Targets {
			target, _ := btf.Parse(tg.BTF)
			rel, _, err := Relocate(d, s2, target)
			orel, oerr := batch.Relocate(dRaw, s2Raw, tg.BTF)
			relocs++
			if Errno(err) != oracleErrno(oerr) {
				t.Fatalf("seed %d, target %s: relocate: model %v, libbpf %v", seed, tg.Name, err, oerr)
			}
			if err != nil {
				refusals++
				var re *Error
				errors.As(err, &re)
				verdicts[re.Reason.Error()]++
				continue
			}
			if !bytes.Equal(rel.Marshal(), orel) {
				t.Fatalf("seed %d, target %s: relocated bytes differ from libbpf", seed, tg.Name)
			}
		}
	}
	t.Logf("cases %d (distill refused by both: %d; libbpf 1.5.0 empty-distilled-base bug: %d), relocations %d (refused by both: %d), disagreements 0",
		*genCases, distFail, emptyBaseBug, relocs, refusals)
	for r, n := range verdicts {
		t.Logf("  %5d× %s", n, r)
	}
}

// checkEmptyBaseBug asserts libbpf 1.5.0's known wrong output when the
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
