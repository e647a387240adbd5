package btfgen

import (
	"bytes"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// Every generated case decodes, is deterministic for its seed, and the
// corpus of cases covers every kind in base and split.
func TestGenerate(t *testing.T) {
	seen := map[btf.Kind]bool{}
	for seed := range uint64(300) {
		c, err := New(seed, Options{BigEndian: seed%5 == 0})
		if err != nil {
			t.Fatal(err)
		}
		again, _ := New(seed, Options{BigEndian: seed%5 == 0})
		if !bytes.Equal(c.Split, again.Split) || !bytes.Equal(c.Targets[2].BTF, again.Targets[2].BTF) {
			t.Fatalf("seed %d is not deterministic", seed)
		}
		base, err := btf.Parse(c.Base)
		if err != nil {
			t.Fatal(err)
		}
		split, err := btf.ParseSplit(c.Split, base)
		if err != nil {
			t.Fatal(err)
		}
		for id := btf.TypeID(1); id < split.NumIDs(); id++ {
			typ, _ := split.Type(id)
			seen[typ.Kind()] = true
		}
		if len(c.Targets) != 4 {
			t.Fatalf("seed %d: %d targets", seed, len(c.Targets))
		}
		for _, tg := range c.Targets {
			if _, err := btf.Parse(tg.BTF); err != nil {
				t.Fatalf("seed %d target %s: %v", seed, tg.Name, err)
			}
		}
	}
	for k := btf.KindInt; k <= btf.MaxKind; k++ {
		if !seen[k] {
			t.Errorf("no %s generated in 300 cases", k)
		}
	}
}
