package cases_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/load"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// TestModuleCasesReal builds every module case from real Debian modules
// (6.12.107 distilled, loaded on 6.12.117: cache only) and holds the load
// model to the catalog's reason for each. Every case must be buildable
// from one of them: tcp_bbr gives the .BTF_ids row (its kfunc set
// re-resolved against the distilled numbering, as the VM scenario writes
// it).
func TestModuleCasesReal(t *testing.T) {
	av, _ := realdata.Vmlinux(t, "6.12.107", "amd64")
	bv, _ := realdata.Vmlinux(t, "6.12.117", "amd64")
	a := realdata.Kernel(t, "6.12.107", "amd64")
	k := load.Kernel{Vmlinux: bv, Order: binary.LittleEndian, AllowMismatch: true}
	built := map[string]int{}
	for _, name := range []string{"nls_utf8", "isofs", "udf", "fat", "btrfs", "tcp_bbr"} {
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
		in := cases.Input{D: d, S: s, Orig: raw, Target: bv}
		if sec, ksyms, ok, err := m.BTFIDs(); err != nil {
			t.Fatal(err)
		} else if ok {
			syms := make([]load.IDSym, len(ksyms))
			for i, y := range ksyms {
				syms[i] = load.IDSym{Name: y.Name, Off: y.Off, Size: y.Size}
			}
			out, _, _, err := load.RemapBTFIDs(sec, m.ByteOrder, syms, av, split, d, s)
			if err != nil {
				t.Fatal(err)
			}
			in.IDs = &cases.BTFIDs{Sec: out, Order: m.ByteOrder, Syms: syms}
		}
		for _, c := range cases.Module() {
			made, err := c.Build(in)
			if errors.Is(err, cases.ErrNotApplicable) {
				continue
			}
			if err != nil {
				t.Fatalf("%s %s: %v", name, c.Label(), err)
			}
			built[c.Label()]++
			p := load.Predict(k, made.Split, made.Base)
			refusal := load.NoBTF // the BTF refused, MODULE_ALLOW_BTF_MISMATCH=y
			if made.IDs != nil {
				kf, err := load.Kfuncs(made.IDs, in.IDs.Order, in.IDs.Syms)
				if err != nil {
					t.Fatal(err)
				}
				p = load.RefuseKfuncIDPastIDMap(p, kf)
				refusal = load.LoadRefused // the init fails
			}
			switch {
			case c.Class == cases.Stale:
				// What a stale .BTF does depends on the drift; 107 -> 117
				// drifted far enough that none of these parse (the "Invalid
				// name_offset" the kernel prints).
				if p.Outcome == load.KeepsBTF {
					t.Errorf("%s %s: a stale .BTF parses on 6.12.117", name, c.Label())
				}
			case p.Outcome != refusal:
				t.Errorf("%s %s (%s): the model says %s", name, c.Label(), made.What, p.Outcome)
			case !errors.Is(p.Reason, c.Model):
				t.Errorf("%s %s (%s): the model refuses with %v, the catalog says %v", name, c.Label(), made.What, p.Reason, c.Model)
			}
		}
	}
	for _, c := range cases.Module() {
		if built[c.Label()] == 0 {
			t.Errorf("no module gave a %s row", c.Label())
		}
	}
}
