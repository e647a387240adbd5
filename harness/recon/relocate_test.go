package recon

import (
	"encoding/binary"
	"errors"
	"syscall"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
)

// handMade builds a distilled base and a split on it directly, for
// situations a distiller never produces.
func handMade(t *testing.T, dist func(b *btf.Builder), split func(b *btf.Builder)) (d, s *btf.Spec, dRaw, sRaw []byte) {
	t.Helper()
	db := btf.NewBuilder(binary.LittleEndian, nil)
	dist(db)
	d, err := db.Spec()
	if err != nil {
		t.Fatal(err)
	}
	sb := btf.NewBuilder(binary.LittleEndian, d)
	split(sb)
	s, err = btf.ParseSplit(sb.Bytes(), d)
	if err != nil {
		t.Fatal(err)
	}
	return d, s, db.Bytes(), sb.Bytes()
}

func intTarget(t *testing.T) (*btf.Spec, []byte) {
	b := btf.NewBuilder(binary.LittleEndian, nil)
	b.Int("long", 8, btf.IntSigned)
	b.Int("int", 4, btf.IntSigned)
	s, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return s, b.Bytes()
}

// A split string that points into the distilled base's strings but not at
// a matched type's name cannot be moved: -ENOENT, as libbpf says too.
func TestRelocateUnmappedName(t *testing.T) {
	ors := oracles(t)
	d, s, dRaw, sRaw := handMade(t,
		func(b *btf.Builder) {
			b.Int("int", 4, btf.IntSigned)
			b.AddString("extra") // in the distilled base, named by no type
		},
		func(b *btf.Builder) {
			b.Add(5, btf.MakeInfo(btf.KindStruct, 0, false), 0) // name_off 5: "extra"
		})
	target, tRaw := intTarget(t)
	_, _, err := Relocate(d, s, target)
	if !errors.Is(err, ErrUnmappedName) || Errno(err) != -int(syscall.ENOENT) {
		t.Fatalf("got %v, want ErrUnmappedName (-ENOENT)", err)
	}
	for _, o := range ors {
		if _, oerr := o.Relocate(dRaw, sRaw, tRaw); oracleErrno(oerr) != -int(syscall.ENOENT) {
			t.Fatalf("%s: %v, want -ENOENT", o.Name(), oerr)
		}
	}
}

// Validation refuses every kind the distiller never writes, and ENUM64.
func TestValidateDistilled(t *testing.T) {
	ors := oracles(t)
	target, tRaw := intTarget(t)
	for _, tc := range []struct {
		name   string
		dist   func(b *btf.Builder)
		reason error
	}{
		{"ENUM64", func(b *btf.Builder) { b.Enum64("e", 8, false) }, ErrBadDistilledKind},
		{"TYPEDEF", func(b *btf.Builder) { b.Typedef("t", 0) }, ErrBadDistilledKind},
		{"PTR", func(b *btf.Builder) { b.Ptr(0) }, ErrBadDistilledKind},
		{"anonymous STRUCT", func(b *btf.Builder) { b.Struct("", 4) }, ErrAnonymousDistilled},
		{"anonymous FWD", func(b *btf.Builder) { b.Fwd("", false) }, ErrAnonymousDistilled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, s, dRaw, sRaw := handMade(t, tc.dist, func(b *btf.Builder) { b.Ptr(1) })
			if _, _, err := Relocate(d, s, target); !errors.Is(err, tc.reason) || Errno(err) != -int(syscall.EINVAL) {
				t.Fatalf("got %v, want %v (-EINVAL)", err, tc.reason)
			}
			for _, o := range ors {
				if _, oerr := o.Relocate(dRaw, sRaw, tRaw); oracleErrno(oerr) != -int(syscall.EINVAL) {
					t.Fatalf("%s: %v, want -EINVAL", o.Name(), oerr)
				}
			}
		})
	}
}
