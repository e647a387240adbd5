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
// two candidates). The split's FUNC kf is the one entry of a kfunc set in
// its .BTF_ids (handIDs).
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
	sb.Func("kf", sb.FuncProto(0), 1) // [6] FUNC kf, [5] its proto
	s, err := sb.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return cases.Input{D: d, S: s, Orig: sb.Bytes(), Target: target, IDs: handIDs(6)}
}

// handIDs is a .BTF_ids holding a set8 of kfuncs with one entry, id kf
// (flags 0x20), laid out as resolve_btfids leaves it:
//
//	0  __BTF_ID__set8__hand_kset (16 bytes)  count 1, flags 1 (KFUNCS)
//	8  __BTF_ID__func__kf__1                 kf, 0x20
func handIDs(kf uint32) *cases.BTFIDs {
	le := binary.LittleEndian
	sec := le.AppendUint32(nil, 1)
	sec = le.AppendUint32(sec, load.SetKfuncs)
	sec = le.AppendUint32(sec, kf)
	sec = le.AppendUint32(sec, 0x20)
	return &cases.BTFIDs{Sec: sec, Order: le, Syms: []load.IDSym{
		{Name: "__BTF_ID__set8__hand_kset", Off: 0, Size: 16},
		{Name: "__BTF_ID__func__kf__1", Off: 8, Size: 4},
	}}
}

// predict is the load model on a built case: its sections, and the
// kfunc sets of its .BTF_ids (the module's own when the case leaves them).
func predict(t *testing.T, k load.Kernel, in cases.Input, made cases.Made) load.Prediction {
	t.Helper()
	p := load.Predict(k, made.Split, made.Base)
	ids := made.IDs
	if ids == nil && in.IDs != nil {
		ids = in.IDs.Sec
	}
	if ids == nil {
		return p
	}
	kf, err := load.Kfuncs(ids, in.IDs.Order, in.IDs.Syms)
	if err != nil {
		t.Fatal(err)
	}
	return load.RefuseKfuncIDPastIDMap(p, kf)
}

func TestModuleCases(t *testing.T) {
	in := handInput(t)
	k := load.Kernel{Vmlinux: in.Target, Order: binary.LittleEndian}
	if p := predict(t, k, in, cases.Made{Split: in.S.Marshal(), Base: in.D.Marshal()}); p.Outcome != load.KeepsBTF {
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
			p := predict(t, k, in, made)
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
		"hostile:forbidden-kind", "hostile:split-id-out-of-range", "hostile:btf-ids-out-of-range", "stale:before"} {
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
	kf, _ := cases.ByLabel("hostile:btf-ids-out-of-range")
	for _, k := range []string{"6.12.117/amd64", "6.12.117/arm64", "7.2.13+deb14/amd64", "7.2.13+deb14/arm64"} {
		rel, arch, _ := strings.Cut(k, "/")
		if got := kf.Kernel(rel, arch).Crash; got != "__register_btf_kfunc_id_set" {
			t.Errorf("btf-ids-out-of-range on %s: crash %q", k, got)
		}
	}
	var alone []string
	for _, c := range cases.Select(true, cases.Hostile) {
		alone = append(alone, c.Name)
	}
	if got := strings.Join(alone, " "); got != "typedef-cycle array-cycle array-typedef-cycle ptr-id-out-of-range btf-ids-out-of-range" {
		t.Errorf("alone hostile cases: %s", got)
	}
}

func TestBTFIDsOutOfRangeEdit(t *testing.T) {
	c, ok := cases.ByLabel("hostile:btf-ids-out-of-range")
	if !ok {
		t.Fatal("no btf-ids-out-of-range case")
	}
	in := handInput(t)
	made, err := c.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	// Only the set's one entry id changes; its flags, the count and the
	// set's flags stay; the BTF is the module's own.
	want := []byte{1, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0x20, 0, 0, 0}
	if string(made.IDs) != string(want) || string(made.Split) != string(in.S.Marshal()) || string(made.Base) != string(in.D.Marshal()) {
		t.Fatalf("made .BTF_ids % x, want % x (BTF unchanged: %v)", made.IDs, want, string(made.Split) == string(in.S.Marshal()))
	}
	if in.IDs.Sec[8] != 6 {
		t.Fatal("the input's section was written to")
	}
	for _, tc := range []struct {
		name string
		ids  *cases.BTFIDs
	}{
		{"no kfunc set", &cases.BTFIDs{Sec: []byte{6, 0, 0, 0}, Order: binary.LittleEndian,
			Syms: []load.IDSym{{Name: "__BTF_ID__func__kf__1", Off: 0, Size: 4}}}},
		{"an empty kfunc set", &cases.BTFIDs{Sec: []byte{0, 0, 0, 0, 1, 0, 0, 0}, Order: binary.LittleEndian,
			Syms: []load.IDSym{{Name: "__BTF_ID__set8__empty", Off: 0, Size: 8}}}},
	} {
		in.IDs = tc.ids
		if _, err := c.Build(in); !errors.Is(err, cases.ErrNotApplicable) {
			t.Errorf("%s: %v, want ErrNotApplicable", tc.name, err)
		}
	}
}
