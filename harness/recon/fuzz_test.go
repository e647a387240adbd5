package recon

import (
	"bytes"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/btfgen"
)

// FuzzRelocate feeds hostile distilled bases and splits (anything the codec
// accepts) to Relocate onto a fixed target: a verdict, never a panic, and
// on success output that decodes on the target.
func FuzzRelocate(f *testing.F) {
	c, err := btfgen.New(1, btfgen.Options{})
	if err != nil {
		f.Fatal(err)
	}
	target, err := btf.Parse(c.Targets[1].BTF)
	if err != nil {
		f.Fatal(err)
	}
	for seed := range uint64(20) {
		c, _ := btfgen.New(seed, btfgen.Options{})
		base, _ := btf.Parse(c.Base)
		split, _ := btf.ParseSplit(c.Split, base)
		if d, s2, err := Distill(base, split); err == nil {
			f.Add(d.Marshal(), s2.Marshal())
		}
	}
	f.Fuzz(func(t *testing.T, dRaw, sRaw []byte) {
		d, err := btf.Parse(dRaw)
		if err != nil {
			return
		}
		s, err := btf.ParseSplit(sRaw, d)
		if err != nil {
			return
		}
		before := s.Marshal()
		rel, idMap, err := Relocate(d, s, target)
		if !bytes.Equal(s.Marshal(), before) {
			t.Fatal("Relocate modified its input")
		}
		if err != nil {
			if Errno(err) == 0 {
				t.Fatalf("error without errno: %v", err)
			}
			return
		}
		if len(idMap) != int(s.NumIDs()) || rel.NumLocal() != s.NumLocal() {
			t.Fatalf("id map %d for %d ids, %d types relocated of %d", len(idMap), s.NumIDs(), rel.NumLocal(), s.NumLocal())
		}
	})
}

// FuzzDistill: any split the codec accepts on a generated base distills or
// is refused with an errno, and a distilled result relocates back onto
// its own base unless matching is ambiguous there.
func FuzzDistill(f *testing.F) {
	c, err := btfgen.New(7, btfgen.Options{})
	if err != nil {
		f.Fatal(err)
	}
	base, err := btf.Parse(c.Base)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.Split)
	f.Fuzz(func(t *testing.T, sRaw []byte) {
		s, err := btf.ParseSplit(sRaw, base)
		if err != nil {
			return
		}
		d, s2, err := Distill(base, s)
		if err != nil {
			if Errno(err) == 0 {
				t.Fatalf("error without errno: %v", err)
			}
			return
		}
		if _, err := btf.ParseSplit(s2.Marshal(), d); err != nil {
			t.Fatalf("new split does not decode on the distilled base: %v", err)
		}
	})
}
