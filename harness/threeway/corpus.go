package threeway

import (
	"fmt"
	"io"

	"github.com/btfrecon/btfrecon/harness/btf"
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
	rawFrom, err := kf.VmlinuxBTF()
	if err != nil {
		return err
	}
	rawTo, err := kt.VmlinuxBTF()
	if err != nil {
		return err
	}
	base, err := btf.Parse(rawFrom)
	if err != nil {
		return err
	}
	target, err := NewTarget(to, rawTo)
	if err != nil {
		return err
	}
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
	}
	return nil
}
