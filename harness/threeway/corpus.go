package threeway

import (
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/corpus"
	"github.com/btfrecon/btfrecon/harness/kernels"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// Corpus distils every step-th module of release `from` (amd64) with the
// model and calls fn with the input that relocates it onto `to`'s vmlinux
// BTF. Distilling runs as the inputs are consumed, so memory stays small.
func Corpus(from, to string, step int, progress io.Writer, fn func(Input) error) error {
	kf, err := kernels.Open(from, "amd64")
	if err != nil {
		return err
	}
	kt, err := kernels.Open(to, "amd64")
	if err != nil {
		return err
	}
	mods, err := corpus.Load(kf, progress)
	if err != nil {
		return err
	}
	base, _, err := kf.Vmlinux()
	if err != nil {
		return err
	}
	spec, rawTo, err := kt.Vmlinux()
	if err != nil {
		return err
	}
	target := &Target{Name: to, Raw: rawTo, Spec: spec}
	for i := 0; i < len(mods); i += max(step, 1) {
		mod := mods[i]
		split, err := btf.ParseSplit(mod.BTF, base)
		if err != nil {
			return fmt.Errorf("%s: %w", mod.Path, err)
		}
		d, s, err := recon.Distill(base, split)
		if err != nil {
			return fmt.Errorf("%s: distill: %w", mod.Path, err)
		}
		if err := fn(Input{Name: "corpus/" + mod.Path, D: d.Marshal(), S: s.Marshal(), T: target}); err != nil {
			return err
		}
		if i%(caseEvery*max(step, 1)) == 0 {
			if err := negatives(mod.Path, d, s, target, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// caseEvery: every caseEvery-th corpus module also gives the catalog's
// negative cases.
const caseEvery = 100

// negatives feeds the catalog's negative cases built from one module: the
// C core and libbpf must refuse them as the model does, with the errno the
// contract gives every matching failure.
func negatives(path string, d, s *btf.Spec, target *Target, fn func(Input) error) error {
	for _, c := range cases.Select(false, cases.Negative) {
		made, err := c.Build(cases.Input{D: d, S: s, Target: target.Spec})
		if errors.Is(err, cases.ErrNotApplicable) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", path, c.Label(), err)
		}
		in := Input{Name: "case/" + c.Name + "/" + path, D: made.Base, S: made.Split, T: target, WantErrno: -int(syscall.EINVAL)}
		if err := fn(in); err != nil {
			return err
		}
	}
	return nil
}
