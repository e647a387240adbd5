package threeway

import (
	"fmt"
	"math/rand/v2"

	"github.com/btfrecon/btfrecon/harness/btfgen"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// GenInputs makes at least n inputs from seed, every target of each
// generated case (harness/btfgen: small and large bases, one in 16 big
// endian, distilled by the model, one in 6 with a hostile edit of the
// distilled base or the split). Cases the model refuses to distill (an
// enum size libbpf cannot add) are skipped.
func GenInputs(seed uint64, n int) ([]Input, error) {
	r := rand.New(rand.NewPCG(seed, 0x627466))
	var ins []Input
	for c := 0; len(ins) < n; c++ {
		opt := btfgen.Options{
			BaseTypes:  3 + r.IntN(22),
			SplitTypes: 1 + r.IntN(12),
			BigEndian:  r.IntN(16) == 0,
			Distill:    recon.Distill,
			Hostile:    6,
		}
		if r.IntN(4) == 0 {
			opt.Names = 60 // few collisions: more relocations succeed
		}
		gc, err := btfgen.New(r.Uint64(), opt)
		if err != nil {
			return nil, fmt.Errorf("gen seed %d case %d: %w", seed, c, err)
		}
		if gc.DistillErr != nil {
			continue
		}
		for k, tg := range gc.Targets {
			t, err := NewTarget(tg.Name, tg.BTF)
			if err != nil {
				return nil, fmt.Errorf("gen seed %d case %d: %w", seed, c, err)
			}
			name := fmt.Sprintf("gen/%d/case%d/target%d (%s", seed, c, k, tg.Name)
			if gc.Hostile != "" {
				name += "; hostile: " + gc.Hostile
			}
			ins = append(ins, Input{Name: name + ")", D: gc.Distilled, S: gc.NewSplit, T: t})
		}
	}
	return ins, nil
}
