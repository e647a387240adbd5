package recon

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/corpus"
	"github.com/btfrecon/btfrecon/harness/internal/realdata"
	"github.com/btfrecon/btfrecon/harness/oracle"
)

// TestDebianCorpus is the differential test on real data: every module of
// Debian's 6.12.107 amd64 kernel is distilled against its vmlinux BTF by
// the model and by both libbpf oracles (byte-identical; libbpf 1.8's
// outputs carry its 32-byte header, the types and strings are the same
// bytes), relocated by all onto 6.12.117's vmlinux BTF (byte-identical,
// same verdicts), libbpf 1.8's own outputs relocated by 1.8 too (the
// model's relocation under that header), and relocated by the model back
// onto 6.12.107 (must succeed, equivalent to the original).
// BTFRECON_CORPUS=all runs every module; by default every 8th.
func TestDebianCorpus(t *testing.T) {
	k107 := realdata.Kernel(t, "6.12.107", "amd64")
	k117 := realdata.Kernel(t, "6.12.117", "amd64")
	ors := oracles(t)
	mods, err := corpus.Load(k107, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	raw107, err := k107.VmlinuxBTF()
	if err != nil {
		t.Fatal(err)
	}
	raw117, err := k117.VmlinuxBTF()
	if err != nil {
		t.Fatal(err)
	}
	b107, err := btf.Parse(raw107)
	if err != nil {
		t.Fatal(err)
	}
	b117, err := btf.Parse(raw117)
	if err != nil {
		t.Fatal(err)
	}
	batches := make([]*oracle.Batch, len(ors))
	for i, o := range ors {
		if batches[i], err = o.NewBatch(); err != nil {
			t.Fatal(err)
		}
		defer batches[i].Close()
	}

	step := 8
	if os.Getenv("BTFRECON_CORPUS") == "all" {
		step = 1
	}
	var run, distOK, relocSame, refused, backOK int
	reasons := map[string]int{}
	for i := 0; i < len(mods); i += step {
		mod := mods[i]
		run++
		split, err := btf.ParseSplit(mod.BTF, b107)
		if err != nil {
			t.Fatalf("%s: %v", mod.Path, err)
		}
		d, s2, err := Distill(b107, split)
		if err != nil {
			t.Fatalf("%s: distill: model %v", mod.Path, err)
		}
		dRaw, s2Raw := d.Marshal(), s2.Marshal()
		rel, _, err := Relocate(d, s2, b117)
		var relRaw []byte
		if err == nil {
			relRaw = rel.Marshal()
		}
		for k, o := range ors {
			batch := batches[k]
			od, os2, oerr := batch.Distill(raw107, mod.BTF)
			if oerr != nil {
				t.Fatalf("%s: distill: model ok, %s %v", mod.Path, o.Name(), oerr)
			}
			wd, ws2 := asWritten(t, o, dRaw), asWritten(t, o, s2Raw)
			if !bytes.Equal(wd, od) || !bytes.Equal(ws2, os2) {
				t.Fatalf("%s: distill differs from %s (distilled base %s, split %s):\n%s", mod.Path, o.Name(),
					oracle.DiffSections(wd, od), oracle.DiffSections(ws2, os2), describeDiff(t, wd, od, ws2, os2))
			}
			orel, oerr := batch.Relocate(dRaw, s2Raw, raw117)
			if Errno(err) != oracleErrno(oerr) {
				t.Fatalf("%s: relocate onto 6.12.117: model %v, %s %v", mod.Path, err, o.Name(), oerr)
			}
			if err == nil && !bytes.Equal(relRaw, orel) {
				t.Fatalf("%s: relocated bytes differ from %s: %s", mod.Path, o.Name(), oracle.DiffSections(relRaw, orel))
			}
			if o.Version.HeaderLen() == 24 {
				continue
			}
			// This libbpf's own outputs, relocated by it: the relocated
			// split keeps the header it was given.
			orel, oerr = batch.Relocate(od, os2, raw117)
			if Errno(err) != oracleErrno(oerr) {
				t.Fatalf("%s: %s relocating its own distill onto 6.12.117: %v, the model %v", mod.Path, o.Name(), oerr, err)
			}
			if err == nil && !bytes.Equal(asWritten(t, o, relRaw), orel) {
				t.Fatalf("%s: %s relocating its own distill: %s", mod.Path, o.Name(), oracle.DiffSections(asWritten(t, o, relRaw), orel))
			}
		}
		distOK++
		if err != nil {
			refused++
			var re *Error
			errors.As(err, &re)
			reasons[fmt.Sprintf("%s: %s", re.Reason, re.Type)]++
		}
		relocSame++

		back, _, err := Relocate(d, s2, b107)
		if err != nil {
			t.Fatalf("%s: relocating back onto its own kernel: %v", mod.Path, err)
		}
		if err := equivalentSplit(split, back); err != nil {
			t.Fatalf("%s: relocated back onto 6.12.107, not equivalent to the original: %v", mod.Path, err)
		}
		backOK++
	}
	t.Logf("modules %d of %d, against %d oracles: distill byte-identical %d, relocate onto 6.12.117 agreeing %d (refused by all %d), back onto 6.12.107 equivalent %d",
		run, len(mods), len(ors), distOK, relocSame, refused, backOK)
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  refused %d× %s", reasons[k], k)
	}
}

// equivalentSplit checks that rel holds orig's split types with the same
// words, where strings compare by content and type ids by the kind, name
// and size of what they name (a base type may come back as a split copy).
func equivalentSplit(orig, rel *btf.Spec) error {
	if rel.NumLocal() < orig.NumLocal() {
		return fmt.Errorf("%d types, the original has %d", rel.NumLocal(), orig.NumLocal())
	}
	var ids, strs []int
	for i := range orig.NumLocal() {
		o, r := orig.Local(i), rel.Local(i)
		if len(o.W) != len(r.W) || o.Info() != r.Info() {
			return fmt.Errorf("type %d: shape differs", o.ID)
		}
		ids, strs = o.IDFields(ids[:0]), o.StringFields(strs[:0])
		special := map[int]bool{}
		for _, f := range strs {
			special[f] = true
			a, _ := orig.String(o.W[f])
			b, _ := rel.String(r.W[f])
			if a != b {
				return fmt.Errorf("type %d word %d: string %q vs %q", o.ID, f, a, b)
			}
		}
		for _, f := range ids {
			special[f] = true
			ot, err1 := orig.Type(btf.TypeID(o.W[f]))
			rt, err2 := rel.Type(btf.TypeID(r.W[f]))
			if err1 != nil || err2 != nil {
				return fmt.Errorf("type %d word %d: %v %v", o.ID, f, err1, err2)
			}
			a, b := ref(orig, ot), ref(rel, rt)
			a.ID, b.ID = 0, 0
			if a.String() != b.String() { // kind, name and, for sized kinds, size
				return fmt.Errorf("type %d word %d: refers to %s, was %s", o.ID, f, b, a)
			}
		}
		for f := range o.W {
			if !special[f] && o.W[f] != r.W[f] {
				return fmt.Errorf("type %d word %d: %#x vs %#x", o.ID, f, r.W[f], o.W[f])
			}
		}
	}
	return nil
}
