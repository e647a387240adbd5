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
// the model and by libbpf (byte-identical), relocated by both onto
// 6.12.117's vmlinux BTF (byte-identical, same verdicts), and relocated by
// the model back onto 6.12.107 (must succeed, equivalent to the original).
// BTFRECON_CORPUS=all runs every module; by default every 8th.
func TestDebianCorpus(t *testing.T) {
	k107 := realdata.Kernel(t, "6.12.107", "amd64")
	k117 := realdata.Kernel(t, "6.12.117", "amd64")
	o := oracle.Require(t)
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
	batch, err := o.NewBatch()
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Close()

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
		od, os2, oerr := batch.Distill(raw107, mod.BTF)
		if err != nil || oerr != nil {
			t.Fatalf("%s: distill: model %v, libbpf %v", mod.Path, err, oerr)
		}
		dRaw, s2Raw := d.Marshal(), s2.Marshal()
		if !bytes.Equal(dRaw, od) || !bytes.Equal(s2Raw, os2) {
			t.Fatalf("%s: distill differs from libbpf:\n%s", mod.Path, describeDiff(t, dRaw, od, s2Raw, os2))
		}
		distOK++

		rel, _, err := Relocate(d, s2, b117)
		orel, oerr := batch.Relocate(dRaw, s2Raw, raw117)
		if Errno(err) != oracleErrno(oerr) {
			t.Fatalf("%s: relocate onto 6.12.117: model %v, libbpf %v", mod.Path, err, oerr)
		}
		if err != nil {
			refused++
			var re *Error
			errors.As(err, &re)
			reasons[fmt.Sprintf("%s: %s", re.Reason, re.Type)]++
		} else if !bytes.Equal(rel.Marshal(), orel) {
			t.Fatalf("%s: relocated bytes differ from libbpf", mod.Path)
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
	t.Logf("modules %d of %d: distill byte-identical %d, relocate onto 6.12.117 agreeing %d (refused by both %d), back onto 6.12.107 equivalent %d",
		run, len(mods), distOK, relocSame, refused, backOK)
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
