package recon

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// A scenario is a base, a split on it and targets to relocate the
// distilled result onto, with what the contract says must come out.
// Expected texts are `btfrecon dump` output, worked out by hand from
// shared/docs/reconciliation.md; the differential test also holds every
// scenario's bytes against libbpf.
type scenario struct {
	name      string
	bo        binary.ByteOrder
	base      func(b *btf.Builder)
	split     func(b *btf.Builder)
	distErrno int    // expected Distill errno, 0 for success
	distilled string // expected dump of the distilled base
	newSplit  string // expected dump of the new split
	targets   []target
}

type target struct {
	name   string
	base   func(b *btf.Builder) // nil: the original base
	errno  int                  // expected Relocate errno, 0 for success
	reason error                // expected reason on failure
	reloc  string               // expected dump of the relocated split ("" = not checked)
}

func (sc scenario) order() binary.ByteOrder {
	if sc.bo == nil {
		return binary.LittleEndian
	}
	return sc.bo
}

// inputs builds the scenario's raw base and split.
func (sc scenario) inputs(t testing.TB) (base, split []byte) {
	t.Helper()
	bb := btf.NewBuilder(sc.order(), nil)
	sc.base(bb)
	bs, err := bb.Spec()
	if err != nil {
		t.Fatalf("base: %v", err)
	}
	sb := btf.NewBuilder(sc.order(), bs)
	sc.split(sb)
	return bb.Bytes(), sb.Bytes()
}

// targetBytes builds a target base (the original base when tg.base is nil).
func (sc scenario) targetBytes(tg target) []byte {
	b := btf.NewBuilder(sc.order(), nil)
	if tg.base != nil {
		tg.base(b)
	} else {
		sc.base(b)
	}
	return b.Bytes()
}

func dump(t testing.TB, s *btf.Spec) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.Dump(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// lines joins expected dump lines.
func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

// Shorthands for members and params.
func m(name string, id btf.TypeID, off uint32) btf.Member {
	return btf.Member{Name: name, Type: id, Offset: off}
}
func p(name string, id btf.TypeID) btf.Param  { return btf.Param{Name: name, Type: id} }
func ev(name string, v uint64) btf.Enumerator { return btf.Enumerator{Name: name, Value: v} }
