package cases_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/load"
)

// handInput is a module worked out by hand so that every module case
// applies: D = [1] struct foo 8, [2] struct bar 16; the split embeds foo
// and points to bar; the target has foo and bar as D says, a FWD and a
// struct baz, and two structs qux of size 8 (so a struct renamed qux has
// two candidates).
func handInput(t *testing.T) cases.Input {
	t.Helper()
	le := binary.LittleEndian
	tb := btf.NewBuilder(le, nil)
	tb.Int("int", 4, btf.IntSigned)                     // 1
	tb.Struct("foo", 8, btf.Member{Name: "x", Type: 1}) // 2
	tb.Struct("bar", 16)                                // 3
	tb.Fwd("baz", false)                                // 4
	tb.Struct("baz", 8)                                 // 5
	tb.Struct("qux", 8)                                 // 6
	tb.Struct("qux", 8, btf.Member{Name: "y", Type: 1}) // 7
	target, err := tb.Spec()
	if err != nil {
		t.Fatal(err)
	}
	db := btf.NewBuilder(le, nil)
	db.Struct("foo", 8)
	db.Struct("bar", 16)
	d, err := db.Spec()
	if err != nil {
		t.Fatal(err)
	}
	sb := btf.NewBuilder(le, d)
	sb.Struct("holder", 8, btf.Member{Name: "f", Type: 1})
	sb.Ptr(2)
	s, err := sb.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return cases.Input{D: d, S: s, Orig: sb.Bytes(), Target: target}
}

func TestModuleCases(t *testing.T) {
	in := handInput(t)
	k := load.Kernel{Vmlinux: in.Target, Order: binary.LittleEndian}
	if p := load.Predict(k, in.S.Marshal(), in.D.Marshal()); p.Outcome != load.KeepsBTF {
		t.Fatalf("the unedited module does not relocate: %v", p.Reason)
	}
	seen := map[string]bool{}
	for _, c := range cases.Module() {
		t.Run(c.Label(), func(t *testing.T) {
			if seen[c.Label()] {
				t.Fatal("label used twice")
			}
			seen[c.Label()] = true
			made, err := c.Build(in)
			if err != nil {
				t.Fatal(err)
			}
			if made.What == "" || made.Split == nil {
				t.Fatalf("incomplete case: %+v", made)
			}
			if c.Class == cases.Stale {
				if made.Base != nil {
					t.Fatal("a stale case with a .BTF.base")
				}
				return
			}
			p := load.Predict(k, made.Split, made.Base)
			if p.Outcome != load.LoadRefused || !errors.Is(p.Reason, c.Model) {
				t.Fatalf("%s: model %s, %v; the catalog says refused with %v", made.What, p.Outcome, p.Reason, c.Model)
			}
		})
	}
}

func TestTwoCandidatesPicksTheSizedName(t *testing.T) {
	c, ok := cases.ByLabel("negative:two-candidates")
	if !ok {
		t.Fatal("no two-candidates case")
	}
	made, err := c.Build(handInput(t))
	if err != nil {
		t.Fatal(err)
	}
	// foo is embedded, so baz's FWD (size 0) is not a candidate: only the
	// two structs qux of foo's size give two.
	d, err := btf.Parse(made.Base)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Name(d.Local(0)); got != "qux" || d.Local(0).SizeType() != 8 {
		t.Fatalf("renamed to %q size %d, want qux size 8", got, d.Local(0).SizeType())
	}
}

func TestNotApplicable(t *testing.T) {
	// A module whose distilled base holds only an INT: no struct to rename,
	// grow or retype.
	le := binary.LittleEndian
	db := btf.NewBuilder(le, nil)
	db.Int("int", 4, btf.IntSigned)
	d, _ := db.Spec()
	sb := btf.NewBuilder(le, d)
	sb.Ptr(1)
	s, _ := sb.Spec()
	in := cases.Input{D: d, S: s, Target: d}
	for _, label := range []string{"negative:renamed", "negative:embedded-size", "negative:two-candidates",
		"hostile:forbidden-kind", "hostile:split-id-out-of-range", "stale:before"} {
		c, _ := cases.ByLabel(label)
		if _, err := c.Build(in); !errors.Is(err, cases.ErrNotApplicable) {
			t.Errorf("%s: %v, want ErrNotApplicable", label, err)
		}
	}
}

func TestKernelRecords(t *testing.T) {
	c, _ := cases.ByLabel("hostile:split-id-out-of-range")
	if got := c.Kernel("6.12.117", "arm64").Crash; got != cases.OopsSite {
		t.Errorf("6.12.117/arm64: crash %q", got)
	}
	if got := c.Kernel("6.12.107", "amd64"); got != (cases.KernelRecord{}) {
		t.Errorf("6.12.107: %+v, want nothing recorded", got)
	}
	cy, _ := cases.ByLabel("hostile:typedef-cycle")
	if !cy.Alone || cy.Kernel("6.12.117", "amd64").Message != cases.CycleMessage {
		t.Errorf("typedef-cycle: alone %v, record %+v", cy.Alone, cy.Kernel("6.12.117", "amd64"))
	}
	var alone []string
	for _, c := range cases.Select(true, cases.Hostile) {
		alone = append(alone, c.Name)
	}
	if got := strings.Join(alone, " "); got != "typedef-cycle array-cycle array-typedef-cycle ptr-id-out-of-range" {
		t.Errorf("alone hostile cases: %s", got)
	}
}
