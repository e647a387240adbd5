//go:build !lean

package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/btffile"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/oracle"
	"github.com/btfrecon/btfrecon/harness/recon"
)

// The model's relocations are what the model rows expect the kernel to
// serve. For a tree whose kernel carries our own reconciliation (6.1 +
// the series) the model must not be the only word on those bytes: before
// any boot, libbpf (the oracle) relocates every test module's distilled
// BTF onto the other kernel's vmlinux too, and must give the model's
// bytes. Without the oracle validate fails: a run that rests on the model
// alone would look like one that does not.

// ErrNoOracle: the libbpf oracle is not built.
var ErrNoOracle = errors.New("the libbpf oracle is required for this tree (make oracle)")

// oracleCheck relocates each module (built against from) onto to's
// vmlinux with the model and with libbpf; it returns how many agreed.
func oracleCheck(lib *oracle.Oracle, from, to string, modules []string) (int, error) {
	var specs [2]*btf.Spec
	var raws [2][]byte
	for i, dir := range []string{from, to} {
		s, f, err := btffile.LoadSpec(filepath.Join(dir, "vmlinux"), "")
		if err != nil {
			return 0, err
		}
		specs[i], raws[i] = s, f.BTF
	}
	n := 0
	for _, ko := range modules {
		m, err := kmod.Open(ko)
		if err != nil {
			return n, err
		}
		raw, ok := m.BTF()
		if !ok {
			continue
		}
		split, err := btf.ParseSplit(raw, specs[0])
		if err != nil {
			return n, fmt.Errorf("%s: .BTF on %s/vmlinux: %w", ko, from, err)
		}
		d, s, err := recon.Distill(specs[0], split)
		if err != nil {
			return n, fmt.Errorf("%s: distill: %w", ko, err)
		}
		rel, _, err := recon.Relocate(d, s, specs[1])
		if err != nil {
			// a refusal is a row of its own; libbpf is asked about bytes
			continue
		}
		got, err := lib.Relocate(d.Marshal(), s.Marshal(), raws[1])
		if err != nil {
			return n, fmt.Errorf("%s: libbpf btf__relocate onto %s/vmlinux refuses what the model relocates: %w", ko, to, err)
		}
		if want := rel.Marshal(); !bytes.Equal(got, want) {
			return n, fmt.Errorf("%s: libbpf and the model disagree on its relocation onto %s/vmlinux (%d vs %d bytes): the model rows' expected bytes are in doubt",
				ko, to, len(got), len(want))
		}
		n++
	}
	return n, nil
}
