package scenario

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// TestNegativesReal builds the negative and hostile rows from real Debian
// modules (cache only) and checks that the model refuses each the way the
// row says.
func TestNegativesReal(t *testing.T) {
	a := realdata.Kernel(t, "6.12.107", "amd64")
	b := realdata.Kernel(t, "6.12.117", "amd64")
	parse := func(raw []byte) *btf.Spec {
		s, err := btf.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ab, err := a.VmlinuxBTF()
	if err != nil {
		t.Fatal(err)
	}
	bb, err := b.VmlinuxBTF()
	if err != nil {
		t.Fatal(err)
	}
	av, bv := parse(ab), parse(bb)
	found := map[string]bool{}
	for _, name := range []string{"nls_utf8", "isofs", "udf", "fat", "btrfs"} {
		p, err := a.Module(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := kmod.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := m.BTF()
		split, err := btf.ParseSplit(raw, av)
		if err != nil {
			t.Fatal(err)
		}
		d, s, err := recon.Distill(av, split)
		if err != nil {
			t.Fatal(err)
		}
		for _, mu := range append(Negatives(d, s, bv), Hostile(d, s)...) {
			found[mu.Name] = true
			if p := Predict(mu.Split, mu.Base, bv, binary.LittleEndian, true); p.Outcome != NoBTF {
				t.Errorf("%s %s (%s): the model accepts it", name, mu.Name, mu.What)
			}
		}
		cy, err := Cycle(d, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := relocErr(cy.Split, cy.Base, bv); !errors.Is(err, recon.ErrCycle) {
			t.Errorf("%s cycle: model says %v, want ErrCycle", name, err)
		}
	}
	for _, want := range []string{"negative:renamed", "negative:embedded-size", "negative:two-candidates",
		"hostile:other-endian", "hostile:truncated", "hostile:forbidden-kind", "hostile:id-out-of-range", "hostile:split-id-out-of-range"} {
		if !found[want] {
			t.Errorf("no module gave a %s row", want)
		}
	}
}
