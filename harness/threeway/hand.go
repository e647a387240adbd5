package threeway

import (
	"github.com/btfrecon/btfrecon/harness/cases"
)

// HandInputs returns the catalog's hand cases as inputs.
func HandInputs() ([]Input, error) {
	var ins []Input
	for _, c := range cases.HandCases() {
		d, s, t, err := c.Build()
		if err != nil {
			return nil, err
		}
		tg, err := NewTarget(c.Name, t)
		if err != nil {
			return nil, err
		}
		ins = append(ins, Input{Name: "hand/" + c.Name, D: d, S: s, T: tg, NoLibbpf: c.NoLibbpf, WantErrno: c.Errno})
	}
	return ins, nil
}
