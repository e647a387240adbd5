// Command upstreamcases writes module rows of the case catalog
// (harness/cases) as .ko files, from one module built by a kernel tree
// whose .BTF is split BTF on a distilled .BTF.base (pahole >= 1.26 makes
// both): the reproducers the upstream bug reports name
// (kernel-patch/upstream/reports), to insmod by hand on a kernel of that
// tree. make upstream-check builds the same rows itself (btfrecon validate,
// vm run --case). One .ko per row:
//
//   - good: the module as built;
//   - each case LABEL given (hostile:split-id-out-of-range,
//     hostile:btf-ids-out-of-range, ...): the catalog's own edit, as btfrecon
//     vm run --case makes it (.BTF, .BTF.base, and .BTF_ids where the case
//     edits it);
//
// and OUT/rows.txt, one "<row> <what>" line each.
//
// usage: upstreamcases -ko MOD.ko -out DIR LABEL...
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/btfrecon/btfrecon/harness/btf"
	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/kmod"
	"github.com/btfrecon/btfrecon/harness/load"
)

func main() {
	ko := flag.String("ko", "", "the module as the kernel tree built it")
	out := flag.String("out", "", "directory for the rows")
	flag.Parse()
	if *ko == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: upstreamcases -ko MOD.ko -out DIR LABEL...")
		os.Exit(2)
	}
	if err := run(*ko, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "upstreamcases:", err)
		os.Exit(1)
	}
}

func run(ko, out string, labels []string) error {
	m, err := kmod.Open(ko)
	if err != nil {
		return err
	}
	split, ok := m.BTF()
	if !ok {
		return fmt.Errorf("%s: no .BTF", ko)
	}
	base, ok := m.BTFBase()
	if !ok {
		return fmt.Errorf("%s: no .BTF.base (build the tree with pahole >= 1.26)", ko)
	}
	d, err := btf.Parse(base)
	if err != nil {
		return fmt.Errorf("%s: .BTF.base: %w", ko, err)
	}
	s, err := btf.ParseSplit(split, d)
	if err != nil {
		return fmt.Errorf("%s: .BTF on .BTF.base: %w", ko, err)
	}
	ids, err := btfIDs(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var rows []string
	write := func(name, what string, img []byte) error {
		if err := kmod.WriteFileAtomic(filepath.Join(out, name+".ko"), img, 0o644); err != nil {
			return err
		}
		rows = append(rows, name+" "+what)
		return nil
	}
	if err := write("good", "the module as built", m.ELF()); err != nil {
		return err
	}
	for _, l := range labels {
		c, ok := cases.ByLabel(l)
		if !ok {
			return fmt.Errorf("no case %q in the catalog", l)
		}
		made, err := c.Build(cases.Input{D: d, S: s, Orig: split, IDs: ids})
		if err != nil {
			return fmt.Errorf("%s: %s: %w", ko, l, err)
		}
		img, err := m.WithBTFSections(made.Split, made.Base, made.IDs)
		if err != nil {
			return fmt.Errorf("%s: %w", l, err)
		}
		if err := write(c.Name, made.What, img); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(out, "rows.txt"), []byte(strings.Join(rows, "\n")+"\n"), 0o644)
}

// btfIDs is the module's .BTF_ids as the cases read it: filled by the
// tree's resolve_btfids against the module's own .BTF on .BTF.base, the
// numbering the kernel maps through the relocation. nil without one.
func btfIDs(m *kmod.Module) (*cases.BTFIDs, error) {
	sec, ksyms, ok, err := m.BTFIDs()
	if err != nil || !ok {
		return nil, err
	}
	syms := make([]load.IDSym, len(ksyms))
	for i, y := range ksyms {
		syms[i] = load.IDSym{Name: y.Name, Off: y.Off, Size: y.Size}
	}
	return &cases.BTFIDs{Sec: sec, Order: m.ByteOrder, Syms: syms}, nil
}
