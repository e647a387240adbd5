package recon

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/oracle"
)

// TestScenarios runs every scenario through the model, checks the
// contract's expected outcome, and holds the bytes and verdicts against
// libbpf 1.5.0 and 1.8.0 (1.8's distill outputs under its own header).
func TestScenarios(t *testing.T) {
	ors := oracles(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			baseRaw, splitRaw := sc.inputs(t)
			base, err := btf.Parse(baseRaw)
			if err != nil {
				t.Fatal(err)
			}
			split, err := btf.ParseSplit(splitRaw, base)
			if err != nil {
				t.Fatal(err)
			}
			d, s2, err := Distill(base, split)
			for _, o := range ors {
				od, os2, oerr := oracleDistill(o, baseRaw, splitRaw)
				if got, want := Errno(err), oracleErrno(oerr); got != want || got != sc.distErrno {
					t.Fatalf("distill errno: model %d (%v), %s %d (%v), contract %d", got, err, o.Name(), want, oerr, sc.distErrno)
				}
				if err != nil {
					continue
				}
				dRaw, s2Raw := asWritten(t, o, d.Marshal()), asWritten(t, o, s2.Marshal())
				if !bytes.Equal(dRaw, od) || !bytes.Equal(s2Raw, os2) {
					t.Fatalf("distill bytes differ from %s:\n%s", o.Name(), describeDiff(t, dRaw, od, s2Raw, os2))
				}
			}
			if err != nil {
				return
			}
			dRaw, s2Raw := d.Marshal(), s2.Marshal()
			if sc.distilled != "" && dump(t, d) != sc.distilled {
				t.Errorf("distilled base:\n%s\nwant:\n%s", dump(t, d), sc.distilled)
			}
			if sc.newSplit != "" && dump(t, s2) != sc.newSplit {
				t.Errorf("new split:\n%s\nwant:\n%s", dump(t, s2), sc.newSplit)
			}
			for _, tg := range sc.targets {
				t.Run(tg.name, func(t *testing.T) {
					targetRaw := sc.targetBytes(tg)
					target, err := btf.Parse(targetRaw)
					if err != nil {
						t.Fatal(err)
					}
					rel, _, err := Relocate(d, s2, target)
					for _, o := range ors {
						orel, oerr := o.Relocate(dRaw, s2Raw, targetRaw)
						if got, want := Errno(err), oracleErrno(oerr); got != want || got != tg.errno {
							t.Fatalf("relocate errno: model %d (%v), %s %d (%v), contract %d", got, err, o.Name(), want, oerr, tg.errno)
						}
						if err == nil && !bytes.Equal(rel.Marshal(), orel) {
							t.Fatalf("relocated bytes differ from %s (%d vs %d bytes)", o.Name(), len(rel.Marshal()), len(orel))
						}
					}
					if err != nil {
						if !errors.Is(err, tg.reason) {
							t.Fatalf("reason %v, want %v", err, tg.reason)
						}
						var re *Error
						errors.As(err, &re)
						t.Logf("explanation:\n%s", re.Explain())
						return
					}
					if tg.reloc != "" && dump(t, rel) != tg.reloc {
						t.Errorf("relocated:\n%s\nwant:\n%s", dump(t, rel), tg.reloc)
					}
				})
			}
		})
	}
}

func oracleDistill(o *oracle.Oracle, base, split []byte) ([]byte, []byte, error) {
	return o.Distill(base, split)
}

// oracleErrno is the errno of a libbpf failure, 0 for success.
func oracleErrno(err error) int {
	var oe *oracle.Error
	if errors.As(err, &oe) {
		return oe.Errno
	}
	if err != nil {
		return 1 // not a libbpf verdict: never equal to a model errno
	}
	return 0
}

// describeDiff renders model and libbpf outputs side by side.
func describeDiff(t testing.TB, d, od, s, os []byte) string {
	var b bytes.Buffer
	show := func(label string, raw []byte, base *btf.Spec) *btf.Spec {
		var spec *btf.Spec
		var err error
		if base == nil {
			spec, err = btf.Parse(raw)
		} else {
			spec, err = btf.ParseSplit(raw, base)
		}
		if err != nil {
			b.WriteString(label + ": " + err.Error() + "\n")
			return nil
		}
		b.WriteString(label + ":\n")
		spec.Dump(&b)
		return spec
	}
	md := show("model distilled", d, nil)
	ld := show("libbpf distilled", od, nil)
	if md != nil {
		show("model split", s, md)
	}
	if ld != nil {
		show("libbpf split", os, ld)
	}
	return b.String()
}
